"""From photos to expressions: detect every face, classify it with DAN."""
import os
import os.path as osp
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmpretrain.apis import BaseInferencer
from mmpretrain.apis.base import InputType, ModelType
from mmpretrain.registry import TRANSFORMS
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..utils.device import check_device
from ..utils.errors import (CheckpointNotFoundError, ConfigError, InputError,
                            InputNotFoundError)
from ..utils.image_io import decode_image
from ..utils.precision import autocast, precision_dtype
from ..video.source import (AnnotatedVideoWriter, StageTimer, VideoSource,
                            iter_frames, open_video, video_label)
from ..video.tracking import HeldDetector, IoUTracker, ScoreSmoother
from ..visualization import draw_attention_panels, draw_faces
from .face_alignment import FaceCropper
from .face_detectors import DetectorType, build_face_detector, to_detections
from .model_notice import model_notice, warn_model_notice


def list_image_files(folder: str) -> List[str]:
    """The image files of ``folder`` (torchvision's ``IMG_EXTENSIONS``,
    any case), sorted by name; not recursive."""
    return sorted(
        osp.join(folder, name) for name in os.listdir(folder)
        if name.lower().endswith(IMG_EXTENSIONS))


class FERInferencer(BaseInferencer):
    """Facial expression recognition on photos: every face, one result each.

    The mmpretrain inferencer workflow (``preprocess`` -> ``forward`` ->
    ``visualize`` -> ``postprocess``), with face detection in front: each
    image is read, its faces are detected (RetinaFace by default, with five
    landmarks) and cropped as the model's training faces were (the config's
    ``face_crop``: aligned onto a template, or the box with a margin), and
    the crops of several images are classified together in batches of
    ``batch_size`` faces.

    Args:
        model (BaseModel | str | Config): A config path / Config or a built
            model (as mmpretrain's inferencers).
        pretrained (str, optional): Checkpoint path. Defaults to None.
        device (str | torch.device, optional): Defaults to the model's. A
            device this machine lacks (``'cuda:0'`` without CUDA) or a
            malformed name raises :class:`~dan_mm.utils.errors.DeviceError`
            before the model is built.
        detector (str | dict | BaseFaceDetector | callable, optional):
            ``'retinaface'``, ``'haar'``, ``'none'`` (the whole image is one
            face), a config dict for
            :data:`~dan_mm.registry.FACE_DETECTORS` (e.g.
            ``dict(type='RetinaFaceDetector', num_threads=2)``) or a
            detector: ``img (BGR) -> FaceDetections | (M, 4) xyxy boxes``.
            Defaults to the config's ``face_detector``, else
            ``'retinaface'``.
        no_detect (bool): Shortcut for ``detector='none'``, for images that
            already are aligned face crops (RAF-DB's). Defaults to False.
        margin (float, optional): Box crops grow by this fraction of the
            box's size on every side (so do aligned crops of faces without
            landmarks). Defaults to the config's ``face_crop.margin``, else
            0.2.
        crop (str, optional): ``'box'`` or ``'aligned'``: overrides the
            config's ``face_crop`` mode (see
            :class:`~dan_mm.apis.FaceCropper`). Defaults to None.
        detector_threads (int, optional): CPU threads of the default
            (RetinaFace) detector. Defaults to ``torch.get_num_threads()``.
        deploy (bool): Call ``model.switch_to_deploy()`` (fused MAN).
            Defaults to False.
        channels_last (bool): Run in ``torch.channels_last`` memory format.
            Defaults to False.
        precision (str): ``'fp32'``, ``'fp16'`` or ``'bf16'`` (autocast, see
            :mod:`dan_mm.utils.precision`). Defaults to ``'fp32'``.
        classes (Sequence[str], optional): Class names; defaults to the
            checkpoint's ``dataset_meta`` or the test dataset's classes.

    Attributes:
        model_notice (str | None): For a model trained on drawn faces
            (SynthFER, from the config's ``training_data``), why its labels
            on real photos are not meaningful and how to get a real-face
            model; None otherwise. Also issued once as a
            :class:`~dan_mm.inference.model_notice.ModelDomainWarning`.

    Example:
        >>> from dan_mm.apis import FERInferencer
        >>> inferencer = FERInferencer('configs/dan_r18_rafdb.py',
        ...                            'checkpoints/dan_r18_rafdb.pth')
        >>> inferencer('group_photo.jpg')[0]['faces'][0]
        {'box': [x1, y1, x2, y2], 'det_score': 0.99,
         'landmarks': [[x, y], ...], 'crop_box': [...], 'pred_label': 3,
         'pred_class': 'Happiness', 'pred_score': 0.93,
         'pred_scores': array([...], dtype=float32)}
    """

    forward_kwargs: set = {'return_maps'}
    visualize_kwargs: set = {'show_dir', 'draw_heads', 'panel_size'}

    def __init__(self,
                 model: ModelType,
                 pretrained: Optional[str] = None,
                 device: Union[str, torch.device, None] = None,
                 detector: Optional[DetectorType] = None,
                 no_detect: bool = False,
                 margin: Optional[float] = None,
                 deploy: bool = False,
                 channels_last: bool = False,
                 precision: str = 'fp32',
                 classes: Optional[Sequence[str]] = None,
                 crop: Optional[str] = None,
                 detector_threads: Optional[int] = None) -> None:
        if isinstance(model, str) and not osp.isfile(model):
            raise ConfigError(f'config file not found: {model}')
        if pretrained is not None and not osp.isfile(pretrained):
            raise CheckpointNotFoundError(
                f'checkpoint not found: {pretrained}')
        precision_dtype(precision)  # refuse an unknown one before loading
        device = check_device(device)  # 'cuda:0' without CUDA: one line
        super().__init__(
            model=model, pretrained=pretrained or False, device=device)
        # Not None for a model of drawn faces (SynthFER): its labels on real
        # photos mean nothing; callers show this next to the results.
        self.model_notice = model_notice(self.config)
        warn_model_notice(self.model_notice)
        if deploy:
            if not hasattr(self.model, 'switch_to_deploy'):
                raise ConfigError(f'{type(self.model).__name__} has no '
                                  'switch_to_deploy(); use model type "DAN"')
            self.model.switch_to_deploy()
        self.channels_last = channels_last
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.precision = precision
        if detector is None:
            detector = self.config.get('face_detector', 'retinaface')
        self.detector = build_face_detector(
            'none' if no_detect else detector, num_threads=detector_threads)
        self.cropper = FaceCropper.from_config(self.config, crop, margin)
        self.classes = list(classes) if classes is not None else getattr(
            self.model, '_dataset_meta', {}).get('classes')

    @property
    def margin(self) -> float:
        """The crop margin (see ``margin``)."""
        return self.cropper.margin

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _init_pipeline(self, cfg: Config) -> Callable:
        # Images (and face crops) are in memory already: drop the loading
        # step (LoadImageFromFile or any subclass of it).
        transforms = []
        for cfg_t in cfg.test_dataloader.dataset.pipeline:
            transform = TRANSFORMS.build(cfg_t)
            if not isinstance(transform, LoadImageFromFile):
                transforms.append(transform)
        return Compose(transforms)

    def _inputs_to_list(self, inputs: InputType) -> list:
        """A folder becomes its image files (sorted); anything else a list."""
        if isinstance(inputs, (str, Path)) and osp.isdir(inputs):
            return list_image_files(str(inputs))
        if not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        return list(inputs)

    def load_image(self, input_: Union[str, np.ndarray], index: int) -> dict:
        """Read one input and find its faces.

        Args:
            input_ (str | np.ndarray): Image path, or a BGR ``uint8`` array
                (OpenCV's order, as in mmpretrain's inferencers).
            index (int): Position of the input, used to name arrays.

        Returns:
            dict: ``input`` (path or index), ``name``, ``img`` (BGR), and
            what :meth:`find_faces` returns.

        Raises:
            InputNotFoundError: The file does not exist.
            UnreadableImageError: It cannot be decoded (see
                :func:`dan_mm.utils.image_io.decode_image`).
        """
        if isinstance(input_, np.ndarray):
            img, name, source = input_, f'{index:06d}', index
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        else:
            path = str(input_)
            if not osp.isfile(path):
                raise InputNotFoundError(f'image not found: {path}')
            img = decode_image(path)  # the loader's and the demo's decoder
            name, source = Path(path).stem, path
        return dict(input=source, name=name, img=img, **self.find_faces(img))

    def find_faces(self,
                   img: np.ndarray,
                   timer: Optional[StageTimer] = None) -> dict:
        """Detect the faces of one image and crop them for the model.

        Args:
            img (np.ndarray): BGR ``uint8`` image ``(H, W, 3)``.
            timer (StageTimer, optional): Adds the seconds of detection
                (``detect``) and cropping / warping (``align``) to it.
                Defaults to None.

        Returns:
            dict: ``boxes`` ``(M, 4)``, ``det_scores`` ``(M, )``,
            ``landmarks`` ``(M, 5, 2)`` or None, and ``crops``: per face a
            :class:`~dan_mm.inference.face_alignment.FaceCrop` (pixels, box in
            the image, image-to-crop matrix for aligned crops).
        """
        timer = timer or StageTimer()
        with timer('detect'):
            found = to_detections(self.detector(img))
        crops, keep = [], []
        with timer('align'):
            for i, box in enumerate(found.boxes):
                points = None if found.landmarks is None \
                    else found.landmarks[i]
                crop = self.cropper(img, box, points)
                if crop is not None:
                    crops.append(crop)
                    keep.append(i)
        return dict(
            boxes=found.boxes[keep],
            det_scores=found.scores[keep],
            landmarks=None
            if found.landmarks is None else found.landmarks[keep],
            crops=crops)

    def _chunk_images(self,
                      ori_inputs: list,
                      batch_size: int,
                      skip_errors: bool = False) -> Iterator[List[dict]]:
        """Read images until they hold ``batch_size`` faces (or run out).

        With ``skip_errors`` an unreadable input becomes an image with no
        face and an ``error`` message instead of raising.
        """
        chunk, num_faces = [], 0
        for index, input_ in enumerate(ori_inputs):
            try:
                image = self.load_image(input_, index)
            except (OSError, ValueError) as error:
                if not skip_errors:
                    raise
                image = dict(
                    input=str(input_),
                    name=None,
                    img=None,
                    error=str(error),
                    **self._no_faces())
            chunk.append(image)
            num_faces += len(image['boxes'])
            if num_faces >= batch_size:
                yield chunk
                chunk, num_faces = [], 0
        if chunk:
            yield chunk

    @staticmethod
    def _no_faces() -> dict:
        return dict(
            boxes=np.zeros((0, 4), np.float32),
            det_scores=np.zeros(0, np.float32),
            landmarks=None,
            crops=[])

    def preprocess(self, images: List[dict], batch_size: int = 1):
        """Crop every face of ``images`` and batch them.

        Args:
            images (list[dict]): Outputs of :meth:`load_image`.
            batch_size (int): Faces per batch.

        Yields:
            dict: Collated ``inputs`` / ``data_samples`` of up to
            ``batch_size`` faces, for ``model.data_preprocessor``.
        """

        def crops():
            for image in images:
                for face in image['crops']:
                    crop = face.img
                    yield self.pipeline(
                        dict(
                            img=crop,
                            img_shape=crop.shape[:2],
                            ori_shape=crop.shape[:2]))

        yield from map(default_collate,
                       self._get_chunk_data(crops(), batch_size))

    @torch.no_grad()
    def forward(self, data: dict, return_maps: bool = False) -> List[dict]:
        """Classify a batch of face crops.

        Args:
            data (dict): A collated batch from :meth:`preprocess`.
            return_maps (bool): Also return every head's spatial attention
                map. Defaults to False.

        Returns:
            list[dict]: Per face ``pred_scores`` ``(num_classes, )`` and,
            with ``return_maps``, ``attention_maps`` ``(K, h, w)``.
        """
        inputs = self.model.data_preprocessor(data, False)['inputs']
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        maps = None
        with autocast(self.device, self.precision):
            if return_maps:
                if not hasattr(self.model, 'attention_maps_from_features'):
                    raise ConfigError(
                        f'{type(self.model).__name__} has no attention maps;'
                        ' use model type "DAN"')
                # One backbone pass for both.
                feats = self.model.backbone_features(inputs)
                logits = self.model.logits_from_features(feats)
                maps = self.model.attention_maps_from_features(feats)
            else:
                logits = self.model(inputs, mode='tensor')
        scores = logits.float().softmax(dim=1).cpu().numpy()
        preds = [dict(pred_scores=s) for s in scores]
        if maps is not None:
            for pred, face_maps in zip(preds, maps.float().cpu().numpy()):
                pred['attention_maps'] = face_maps
        return preds

    def __call__(self,
                 inputs: InputType,
                 batch_size: int = 1,
                 return_maps: bool = False,
                 **kwargs) -> List[dict]:
        """Find and classify every face of every input.

        Args:
            inputs (str | np.ndarray | list): An image path, a BGR array, a
                folder of images, or a list of paths / arrays.
            batch_size (int): Faces classified together. Defaults to 1.
            return_maps (bool): Add each face's ``attention_maps``
                ``(K, h, w)``. Defaults to False.
            show_dir (str, optional): Save annotated images there
                (``<name>.png``). Defaults to None.
            draw_heads (bool): With ``show_dir``, also save the attention
                panels (``<name>_attention.png``). Defaults to False.
            panel_size (int): Side of an attention panel. Defaults to 160.

        Returns:
            list[dict]: One per input, see :meth:`postprocess`.
        """
        return list(
            self.iter_results(inputs, batch_size, return_maps, **kwargs))

    def iter_results(self,
                     inputs: InputType,
                     batch_size: int = 1,
                     return_maps: bool = False,
                     skip_errors: bool = False,
                     **kwargs) -> Iterator[dict]:
        """Like :meth:`__call__`, one result at a time (bounded memory).

        Args:
            skip_errors (bool): Give an unreadable input a result with an
                ``error`` message and no faces instead of raising.
                Defaults to False.
        """
        _, _, visualize_kwargs, _ = self._dispatch_kwargs(**kwargs)
        return_maps = return_maps or visualize_kwargs.get('draw_heads', False)
        for images in self._chunk_images(
                self._inputs_to_list(inputs), batch_size, skip_errors):
            preds = []
            for data in self.preprocess(images, batch_size):
                preds.extend(self.forward(data, return_maps=return_maps))
            results = self.postprocess(images, preds)
            self.visualize(images, results, **visualize_kwargs)
            yield from results

    def iter_video(self,
                   source: VideoSource,
                   batch_size: int = 1,
                   max_frames: Optional[int] = None,
                   out_file: Optional[str] = None,
                   show: bool = False,
                   return_maps: bool = False,
                   smooth: bool = True,
                   smooth_window: int = 5,
                   detect_every: int = 1,
                   tracker: Optional[IoUTracker] = None,
                   timer: Optional[StageTimer] = None) -> Iterator[dict]:
        """Find, track and classify every face of every frame of a video or
        camera.

        Frames are read and classified ``batch_size`` at a time (the faces
        of a batch of frames go through the model together). Each face gets
        a ``track_id`` that stays with it across frames
        (:class:`~dan_mm.video.tracking.IoUTracker`), and with ``smooth`` its
        probabilities are an exponential moving average over its track's
        last ``smooth_window`` frames
        (:class:`~dan_mm.video.tracking.ScoreSmoother`). The capture (and
        ``out_file``) are closed when the frames run out, after
        ``max_frames``, or when the caller stops iterating.

        Args:
            source (str | int): A video file or a camera index.
            batch_size (int): Frames read, and faces classified, together.
                Defaults to 1.
            max_frames (int, optional): Stop after this many frames (a
                camera never ends). Defaults to None.
            out_file (str, optional): Write an annotated copy here (MP4, the
                source's frame rate). Defaults to None.
            show (bool): Show each annotated frame in a window (needs a
                display). Defaults to False.
            return_maps (bool): Add each face's ``attention_maps``.
                Defaults to False.
            smooth (bool): Smooth each track's probabilities over time; off,
                every frame is classified on its own. Defaults to True.
            smooth_window (int): The smoothing span in frames. Defaults
                to 5.
            detect_every (int): Run the face detector on every N-th frame
                only; the frames in between reuse the last detected faces
                (held in place). Defaults to 1 (every frame).
            tracker (IoUTracker, optional): Matches faces across frames;
                anything with ``update(boxes (M, 4)) -> (M, ) ids``.
                Defaults to ``IoUTracker()``.
            timer (StageTimer, optional): Add the seconds spent per stage
                (decode, detect, align, classify, draw_write) to it, for
                benchmarks. Defaults to None.

        Yields:
            dict: Per frame, a result as :meth:`__call__`'s with ``input``
            the path (or ``camera:<i>``), plus ``frame`` (0-based index)
            and ``time_s`` (the frame's timestamp in seconds); each face
            also has ``track_id`` (int, from 1) and, with ``smooth``,
            ``raw_scores`` (this frame's own probabilities; ``pred_scores``
            and the predicted class are the smoothed ones).

        Raises:
            InputNotFoundError: The video file does not exist.
            InputError: The source cannot be opened, or has no frame.
        """
        tracker = tracker if tracker is not None else IoUTracker()
        smoother = ScoreSmoother(smooth_window) if smooth else None
        detector = HeldDetector(self.detector, detect_every)
        timer = timer or StageTimer()
        capture, label = open_video(source), video_label(source)
        writer = None
        if out_file is not None:
            Path(out_file).parent.mkdir(parents=True, exist_ok=True)
            writer = AnnotatedVideoWriter(out_file,
                                          capture.get(cv2.CAP_PROP_FPS) or 25.)
        num_frames = 0
        try:

            def classify(batch):
                return self._classify_frames(batch, batch_size, label, writer,
                                             show, return_maps, detector,
                                             tracker, smoother, timer)

            batch = []
            for item in iter_frames(capture, max_frames, timer):
                batch.append(item)
                if len(batch) == batch_size:
                    yield from classify(batch)
                    num_frames += len(batch)
                    batch = []
            if batch:
                yield from classify(batch)
                num_frames += len(batch)
            if num_frames == 0:
                raise InputError(f'cannot read any frame from {label}')
        finally:
            capture.release()
            if writer is not None:
                writer.release()

    def _classify_frames(self, batch: list, batch_size: int, label: str,
                         writer: Optional[AnnotatedVideoWriter], show: bool,
                         return_maps: bool, detector: HeldDetector,
                         tracker: IoUTracker,
                         smoother: Optional[ScoreSmoother],
                         timer: StageTimer) -> Iterator[dict]:
        """Classify ``(index, time_s, frame)`` items in frame order; track,
        smooth, draw, write, show."""
        own_detector, self.detector = self.detector, detector
        try:
            images = [
                dict(
                    input=index,
                    name=f'{index:06d}',
                    img=frame,
                    **self.find_faces(frame, timer))
                for index, _, frame in batch
            ]
        finally:
            self.detector = own_detector
        preds = []
        chunks = self.preprocess(images, batch_size)
        while True:
            with timer('align'):
                data = next(chunks, None)
            if data is None:
                break
            with timer('classify'):
                preds.extend(self.forward(data, return_maps=return_maps))
        results = self.postprocess(images, preds)
        for (index, time_s, frame), result in zip(batch, results):
            result.update(input=label, frame=index, time_s=time_s)
            self._track_faces(result['faces'], tracker, smoother)
            if writer is not None or show:
                with timer('draw_write'):
                    drawn = draw_faces(frame, result['faces'])
                    if writer is not None:
                        writer.write(drawn)
                    if show:
                        cv2.imshow(label, drawn)
                        cv2.waitKey(1)
            yield result

    def _track_faces(self, faces: List[dict], tracker: IoUTracker,
                     smoother: Optional[ScoreSmoother]) -> None:
        """Set each face's ``track_id``; with a smoother, replace its
        probabilities (and class) by its track's smoothed ones."""
        boxes = np.array([face['box'] for face in faces],
                         np.float64).reshape(-1, 4)
        for face, track_id in zip(faces, tracker.update(boxes)):
            face['track_id'] = int(track_id)
            if smoother is None:
                continue
            face['raw_scores'] = face['pred_scores']
            scores = smoother.update(int(track_id), face['pred_scores'])
            label = int(scores.argmax())
            face.update(
                pred_scores=scores,
                pred_label=label,
                pred_score=float(scores[label]))
            if self.classes is not None:
                face['pred_class'] = self.classes[label]
        live = getattr(tracker, 'track_ids', None)
        if smoother is not None and live is not None:
            smoother.keep_only(live)

    def visualize(self,
                  images: List[dict],
                  results: List[dict],
                  show_dir: Optional[str] = None,
                  draw_heads: bool = False,
                  panel_size: int = 160) -> Optional[List[np.ndarray]]:
        """Draw boxes and labels (and attention panels), save to ``show_dir``.

        Returns:
            list[np.ndarray] | None: Annotated BGR images, None without
            ``show_dir``.
        """
        if show_dir is None:
            return None
        Path(show_dir).mkdir(parents=True, exist_ok=True)
        drawn = []
        for image, result in zip(images, results):
            if image['img'] is None:  # unreadable, skipped
                continue
            out = draw_faces(image['img'], result['faces'])
            mmcv.imwrite(out, osp.join(show_dir, f'{image["name"]}.png'))
            if draw_heads and result['faces']:
                mmcv.imwrite(
                    draw_attention_panels(image['img'], result['faces'],
                                          panel_size),
                    osp.join(show_dir, f'{image["name"]}_attention.png'))
            drawn.append(out)
        return drawn

    def postprocess(self, images: List[dict], preds: List[dict]) -> List[dict]:
        """Group face predictions back per image.

        Returns:
            list[dict]: Per image ``input`` (path or index), ``img_shape``
            ``(H, W)`` (or ``error``, for a skipped input) and ``faces``:
            per face ``box`` (detected, xyxy), ``det_score`` (the
            detector's confidence), ``landmarks`` (five ``[x, y]``, or None),
            ``crop_box`` (the part of the image the model saw; aligned crops
            add ``crop_matrix``, image to crop, and ``crop_size``),
            ``pred_label``, ``pred_class``
            (with class names), ``pred_score`` and ``pred_scores`` (all
            class probabilities), plus ``attention_maps`` when asked for.
        """
        results, preds = [], iter(preds)
        for image in images:
            faces = []
            for i, (box,
                    crop) in enumerate(zip(image['boxes'], image['crops'])):
                face = next(preds)
                scores = face['pred_scores']
                label = int(scores.argmax())
                landmarks = image['landmarks']
                face.update(
                    box=[float(v) for v in box],
                    det_score=float(image['det_scores'][i]),
                    landmarks=None
                    if landmarks is None else landmarks[i].round(2).tolist(),
                    crop_box=[int(v) for v in crop.box],
                    pred_label=label,
                    pred_score=float(scores[label]))
                if crop.matrix is not None:
                    face.update(
                        crop_matrix=crop.matrix.tolist(),
                        crop_size=crop.img.shape[0])
                if self.classes is not None:
                    face['pred_class'] = self.classes[label]
                faces.append(face)
            result = dict(input=image['input'], faces=faces)
            if image['img'] is not None:
                result['img_shape'] = tuple(image['img'].shape[:2])
            if 'error' in image:
                result['error'] = image['error']
            results.append(result)
        return results
