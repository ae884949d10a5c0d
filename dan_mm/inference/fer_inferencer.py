"""From photos to expressions: detect every face, classify it with DAN."""
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
from mmengine.logging import MMLogger
from mmpretrain.apis import BaseInferencer
from mmpretrain.apis.base import InputType, ModelType
from mmpretrain.registry import TRANSFORMS

from ..evaluation.calibration import apply_temperature
from ..evaluation.temperature import check_calibration_args, model_temperature
from ..runtime import (TorchBackend, build_onnx_backend, check_backend,
                       inference_image_size, load_model, prepare_for_inference,
                       resolve_model)
from ..utils.checkpoint_config import check_checkpoint_config
from ..utils.config import load_config
from ..utils.device import check_device
from ..utils.errors import InputNotFoundError
from ..utils.image_io import decode_image
from ..utils.precision import precision_dtype
from ..visualization import draw_attention_panels, draw_faces
from .face_alignment import FaceCropper
from .face_detectors import DetectorType, FaceDetections
from .face_finder import FaceFinder
from .image_inputs import chunk_images, collect_inputs, inputs_to_list
from .model_notice import model_notice, warn_model_notice
from .predictions import set_prediction


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
        model (BaseModel | str | Config): A model name of the zoo
            (``dan_r18_3rdparty_rafdb``: its weights are downloaded once),
            a config path / Config (built by
            :func:`~dan_mm.runtime.load_model`) or a built model.
        pretrained (str, optional): Checkpoint path or URL; for a model
            name, instead of its weights. Defaults to None.
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
            :class:`~dan_mm.inference.FaceCropper`). Defaults to None.
        detector_threads (int, optional): CPU threads of the default
            (RetinaFace) detector. Defaults to ``torch.get_num_threads()``.
        deploy (bool): Fuse the attention heads
            (:func:`~dan_mm.runtime.prepare_for_inference`). Defaults to
            False.
        channels_last (bool): Run in ``torch.channels_last`` memory format.
            Defaults to False.
        precision (str): ``'fp32'``, ``'fp16'`` or ``'bf16'`` (autocast, see
            :mod:`dan_mm.utils.precision`). Defaults to ``'fp32'``.
        classes (Sequence[str], optional): Class names; defaults to the
            checkpoint's ``dataset_meta`` or the test dataset's classes.
        backend (str): What classifies the crops: ``'pytorch'`` (the
            model), or ``'onnxruntime'`` (``onnx_file``, else the deploy
            model exported once, see
            :func:`~dan_mm.runtime.cached_onnx_export`).
            Attention maps always come from the PyTorch model, which then
            classifies too (one backbone pass). Defaults to
            ``'onnxruntime'`` with ``onnx_file``, else ``'pytorch'``
            (``tools/infer.py`` and the web demo pick with
            :func:`~dan_mm.runtime.choose_backend`).
        onnx_file (str, optional): An ONNX export of this model (fp32 or
            int8) for ONNX Runtime. Defaults to None.
        num_threads (int, optional): ONNX Runtime's intra-op threads.
            Defaults to ``torch.get_num_threads()``.
        temperature (float, optional): Divide the logits by this before the
            softmax (``tools/analysis_tools/calibrate.py`` fits one). Defaults
            to the model's own: ``onnx_file``'s, else the checkpoint's
            (:func:`~dan_mm.evaluation.temperature.model_temperature`);
            none: the raw softmax. 1 turns a model's temperature off.
        min_confidence (float, optional): A face whose (calibrated) top
            probability is below this is marked ``uncertain`` (its class and
            probabilities stay; it is drawn with a "?" label). Defaults to
            None: no face is marked, and results have no ``uncertain``.
        allow_config_mismatch (bool): Run a checkpoint whose training
            config (``meta['cfg']``) has another input size, mean/std or
            class order than ``model``'s config, with a warning, instead
            of refusing it (:class:`CheckpointMismatchError`). Defaults to
            False.

    Attributes:
        model_notice (str | None): For a model trained on drawn faces
            (SynthFER, from the config's ``training_data``), why its labels
            on real photos are not meaningful and how to get a real-face
            model; None otherwise. Also issued once as a
            :class:`~dan_mm.inference.model_notice.ModelDomainWarning`.
        temperature (float | None): The temperature applied, if any.
        calibration_note (str | None): With a temperature, one sentence
            saying so (logged once; ``tools/infer.py`` prints it).

    Example:
        >>> inferencer = FERInferencer('configs/dan_r18_rafdb.py',
        ...                            'checkpoints/dan_r18_rafdb.pth')
        >>> inferencer('group_photo.jpg')[0]['faces'][0]['pred_class']
        'Happiness'
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
                 detector_threads: Optional[int] = None,
                 backend: Optional[str] = None,
                 onnx_file: Optional[str] = None,
                 num_threads: Optional[int] = None,
                 temperature: Optional[float] = None,
                 min_confidence: Optional[float] = None,
                 allow_config_mismatch: bool = False) -> None:
        check_calibration_args(temperature, min_confidence)
        precision_dtype(precision)  # refuse an unknown one before loading
        device = check_device(device)  # 'cuda:0' without CUDA: one line
        backend = check_backend(backend, onnx_file, precision, device)
        trained_cfg = None
        if not isinstance(model, torch.nn.Module):
            # a model name: its config and its weights, from the cache
            model, pretrained = resolve_model(model, pretrained)
            if pretrained:
                # the checkpoint's training config: another input size,
                # mean/std or class order than this config's is refused
                cfg = model if isinstance(model, Config) else \
                    load_config(model)
                trained_cfg = check_checkpoint_config(
                    cfg,
                    pretrained,
                    allow_config_mismatch,
                    config_name=model if isinstance(model, str) else None,
                    classes=tuple(classes) if classes else None)
        checkpoint = pretrained  # names the cached ONNX export
        if not isinstance(model, torch.nn.Module):
            model = load_model(model, pretrained, device)
            pretrained = None
        super().__init__(
            model=model, pretrained=pretrained or False, device=device)
        # Not None for a model of drawn faces (SynthFER): its labels on real
        # photos mean nothing; callers show this next to the results. What
        # the checkpoint was trained on counts, not what the config says.
        self.model_notice = model_notice(trained_cfg or self.config)
        warn_model_notice(self.model_notice)
        prepare_for_inference(
            self.model,
            deploy=deploy,
            channels_last=channels_last,
            precision=precision)
        self.precision = precision
        self.torch_backend = TorchBackend(self.model, precision)
        # The detector and crop, shared with crop_faces.py's training faces
        self.face_finder = FaceFinder(self.config, detector, no_detect, margin,
                                      crop, detector_threads)
        self.classes = list(classes) if classes is not None else getattr(
            self.model, '_dataset_meta', {}).get('classes')
        self.backend = self.torch_backend
        if backend == 'onnxruntime':
            self.backend = build_onnx_backend(
                self.model, inference_image_size(self.config), checkpoint,
                onnx_file,
                len(self.classes) if self.classes else None, num_threads)
        self.min_confidence = min_confidence
        # an ONNX file's own temperature first, else the checkpoint's
        self.temperature, self.calibration_note = model_temperature(
            temperature, checkpoint, onnx_file,
            getattr(self.backend, 'session', None) if onnx_file else None)
        if self.calibration_note:
            MMLogger.get_current_instance().info(self.calibration_note)

    @property
    def detector(self):
        """The face detector (:attr:`FaceFinder.detector`)."""
        return self.face_finder.detector

    @detector.setter
    def detector(self, detector) -> None:
        self.face_finder.detector = detector

    @property
    def cropper(self) -> FaceCropper:
        """The face crop (:attr:`FaceFinder.cropper`)."""
        return self.face_finder.cropper

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
        return inputs_to_list(inputs)

    def load_image(self,
                   input_: Union[str, np.ndarray],
                   index: int,
                   name: Optional[str] = None) -> dict:
        """Read one input and find its faces.

        Args:
            input_ (str | np.ndarray): Image path, or a BGR ``uint8`` array
                (OpenCV's order, as in mmpretrain's inferencers).
            index (int): Position of the input, used to name arrays.
            name (str, optional): The name of its output files. Defaults to
                the file's stem, or the index of an array.

        Returns:
            dict: ``input`` (path or index), ``name``, ``img`` (BGR), and
            what :meth:`find_faces` returns.

        Raises:
            InputNotFoundError: The file does not exist.
            UnreadableImageError: It cannot be decoded (see
                :func:`dan_mm.utils.image_io.decode_image`).
        """
        if isinstance(input_, np.ndarray):
            img, source = input_, index
            name = name or f'{index:06d}'
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        else:
            path = str(input_)
            if not osp.isfile(path):
                raise InputNotFoundError(f'image not found: {path}')
            img = decode_image(path)  # the loader's and the demo's decoder
            name, source = name or Path(path).stem, path
        return dict(input=source, name=name, img=img, **self.find_faces(img))

    def detect(self,
               img: np.ndarray,
               detector: Optional[DetectorType] = None) -> FaceDetections:
        """Find the faces of one image.

        Args:
            img (np.ndarray): BGR ``uint8`` image ``(H, W, 3)``.
            detector (callable, optional): Run this one instead of the
                inferencer's own (a video loop's held detector). Defaults to
                None.

        Returns:
            FaceDetections: ``boxes`` ``(M, 4)``, ``scores`` ``(M, )`` and
            ``landmarks`` ``(M, 5, 2)`` or None.
        """
        return self.face_finder.detect(img, detector)

    def find_faces(self,
                   img: np.ndarray,
                   detector: Optional[DetectorType] = None) -> dict:
        """Detect the faces of one image and crop them for the model
        (:meth:`detect`, then :meth:`FaceCropper.crop_faces`).

        Returns:
            dict: ``boxes`` ``(M, 4)``, ``det_scores`` ``(M, )``,
            ``landmarks`` ``(M, 5, 2)`` or None, and ``crops`` (a
            :class:`~dan_mm.inference.face_alignment.FaceCrop` each).
        """
        return self.face_finder.find_faces(img, detector)

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
        with torch.no_grad():
            inputs = self.model.data_preprocessor(data, False)['inputs']
        # Maps are PyTorch's; it then gives the scores of the same pass.
        backend = self.torch_backend if return_maps else self.backend
        scores, maps = backend(inputs, return_maps=return_maps)
        scores = apply_temperature(scores, self.temperature)
        preds = [dict(pred_scores=s) for s in scores]
        for pred, face_maps in zip(preds, [] if maps is None else maps):
            pred['attention_maps'] = face_maps
        return preds

    def __call__(self,
                 inputs: InputType,
                 batch_size: int = 1,
                 return_maps: bool = False,
                 **kwargs) -> List[dict]:
        """Find and classify every face of every input.

        Args:
            inputs (str | np.ndarray | list | ImageInputs): An image path,
                a BGR array, a folder of images, or a list of these
                (:func:`~dan_mm.inference.image_inputs.collect_inputs`).
            batch_size (int): Faces classified together. Defaults to 1.
            return_maps (bool): Add each face's ``attention_maps``
                ``(K, h, w)``. Defaults to False.
            show_dir (str, optional): Save annotated images there
                (``<name>.png``, names distinct within the inputs: see
                :func:`~dan_mm.inference.image_inputs.collect_inputs`).
                Defaults to None.
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
        inputs = collect_inputs(inputs)  # output names distinct in the run

        def load(input_, index):
            return self.load_image(input_, index, inputs.names[index])

        for images in chunk_images(inputs.items, load, batch_size,
                                   skip_errors):
            preds = []
            for data in self.preprocess(images, batch_size):
                preds.extend(self.forward(data, return_maps=return_maps))
            results = self.postprocess(images, preds)
            self.visualize(images, results, **visualize_kwargs)
            yield from results

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
            class probabilities, calibrated when the model has a
            temperature), ``uncertain`` (with ``min_confidence``), plus
            ``attention_maps`` when asked for.
        """
        results, preds = [], iter(preds)
        for image in images:
            faces = []
            for i, (box,
                    crop) in enumerate(zip(image['boxes'], image['crops'])):
                face = next(preds)
                landmarks = image['landmarks']
                face.update(
                    box=[float(v) for v in box],
                    det_score=float(image['det_scores'][i]),
                    landmarks=None
                    if landmarks is None else landmarks[i].round(2).tolist(),
                    crop_box=[int(v) for v in crop.box])
                if crop.matrix is not None:
                    face.update(
                        crop_matrix=crop.matrix.tolist(),
                        crop_size=crop.img.shape[0])
                faces.append(
                    set_prediction(face, face['pred_scores'], self.classes,
                                   self.min_confidence))
            result = dict(input=image['input'], faces=faces)
            if image['img'] is not None:
                result['img_shape'] = tuple(image['img'].shape[:2])
            if 'error' in image:
                result['error'] = image['error']
            results.append(result)
        return results
