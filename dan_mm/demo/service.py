"""What the web demo does with one uploaded photo, without any web code.

:class:`DemoService` turns the bytes of an upload into a JSON-ready answer:
every face boxed and labelled, per face the class probabilities and the
attention panels of its K heads, the time it took, and which model on which
device answered, with the model's notice when it was not trained on real
faces (:func:`dan_mm.inference.model_notice.model_notice`). Uploads are decoded
by :func:`dan_mm.utils.image_io.decode_image`, as training images and
inference inputs are; bad input raises
:class:`~dan_mm.utils.errors.InputError` with a message meant for the page.
"""
import base64
import os.path as osp
import time
import warnings
from typing import List, Optional

import cv2
import numpy as np
import torch

from ..inference import FERInferencer, ModelDomainWarning, face_record
from ..inference.predictions import mark_uncertain
from ..utils.cli import naming_checkpoint
from ..utils.config import load_config
from ..utils.errors import CheckpointError
from ..utils.image_io import decode_image
from ..visualization import (draw_attention_panels, draw_faces, face_number,
                             face_style)

NO_FACE_MESSAGE = (
    'No face found. The detector finds faces of at least about 16 pixels; '
    'if the image is one face, classify the whole image as one face.')


def data_url(img: np.ndarray, ext: str = '.png', quality: int = 90) -> str:
    """A BGR image as a ``data:`` URL for an ``<img>`` tag."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == '.jpg' else []
    ok, buf = cv2.imencode(ext, img, params)
    if not ok:
        raise RuntimeError(f'cv2.imencode({ext!r}) failed')
    mime = 'jpeg' if ext == '.jpg' else ext[1:]
    return f'data:image/{mime};base64,' + base64.b64encode(
        buf.tobytes()).decode('ascii')


def device_name(device: torch.device) -> str:
    """``'cpu (2 threads)'`` or ``'cuda:0 (NVIDIA H100)'``."""
    if device.type == 'cuda':
        return f'{device} ({torch.cuda.get_device_name(device)})'
    if device.type == 'cpu':
        num = torch.get_num_threads()
        return f'cpu ({num} thread{"s" if num != 1 else ""})'
    return str(device)


class DemoService:
    """Classify the faces of uploaded photos for the web demo.

    Two :class:`~dan_mm.inference.FERInferencer` share one model: one detects
    faces, the other takes the whole image as one face (what the page offers
    when no face is found). Calls are not thread safe: the web app runs them
    one at a time.

    Args:
        inferencer (FERInferencer): Detects and classifies faces; its model
            must come with attention maps (a DAN).
        whole_image_inferencer (FERInferencer): The same model with
            ``no_detect=True``.
        model_name (str): Shown on the page, e.g. the config and checkpoint.
        max_side (int): Longer side photos are shrunk to before detection.
            Defaults to 1280.
        max_pixels (int): Larger images are refused. Defaults to 50e6.
        panel_size (int): Side of an attention panel. Defaults to 128.
    """

    def __init__(self,
                 inferencer: FERInferencer,
                 whole_image_inferencer: FERInferencer,
                 model_name: str,
                 max_side: int = 1280,
                 max_pixels: int = 50_000_000,
                 panel_size: int = 128) -> None:
        self.inferencer = inferencer
        self.whole_image_inferencer = whole_image_inferencer
        self.model_name = model_name
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.panel_size = panel_size
        self.device = device_name(inferencer.device)
        if inferencer.backend.name == 'onnxruntime':
            self.device = (
                f'cpu, ONNX Runtime ({inferencer.backend.num_threads}'
                ' threads; attention maps by PyTorch on '
                f'{self.device})')
        self.num_heads = inferencer.config.model.get('neck',
                                                     {}).get('num_heads')
        self.notice = inferencer.model_notice

    @classmethod
    def from_files(cls,
                   config: str,
                   checkpoint: str,
                   device: Optional[str] = None,
                   precision: str = 'fp32',
                   detector: Optional[str] = None,
                   backend: Optional[str] = None,
                   onnx_file: Optional[str] = None,
                   num_threads: Optional[int] = None,
                   allow_config_mismatch: bool = False,
                   **kwargs) -> 'DemoService':
        """Build the service from a config and a checkpoint file.

        Args:
            config (str): Model config file.
            checkpoint (str): Checkpoint file.
            device (str, optional): e.g. ``'cpu'``, ``'cuda:0'``.
            precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
            detector (str | dict, optional): The face detector (see
                :class:`~dan_mm.inference.FERInferencer`); defaults to the
                config's, else RetinaFace.
            backend (str, optional): ``'pytorch'`` or ``'onnxruntime'``
                (see :class:`~dan_mm.inference.FERInferencer`; the attention
                panels are PyTorch's either way). Defaults to
                ``'onnxruntime'`` with ``onnx_file``, else ``'pytorch'``.
            onnx_file (str, optional): An ONNX export of the model (fp32 or
                int8) for ONNX Runtime.
            num_threads (int, optional): ONNX Runtime's threads.
            allow_config_mismatch (bool): Run a checkpoint trained with
                another input size, mean/std or class order (see
                :class:`~dan_mm.apis.FERInferencer`). Defaults to False.
            **kwargs: The other arguments of :class:`DemoService`.

        Raises:
            ConfigError: The config is missing.
            CheckpointError: The checkpoint is missing or does not fit.
        """
        load_config(config)  # one clear line if missing
        if not osp.isfile(checkpoint):
            raise CheckpointError(f'checkpoint not found: {checkpoint}')
        with naming_checkpoint(checkpoint):
            inferencer = FERInferencer(
                config,
                checkpoint,
                device=device,
                precision=precision,
                detector=detector,
                backend=backend,
                onnx_file=onnx_file,
                num_threads=num_threads,
                allow_config_mismatch=allow_config_mismatch)
        # The same network for whole images (and the same ONNX file, already
        # checked or exported).
        onnx_file = getattr(inferencer.backend, 'onnx_file', None)
        with warnings.catch_warnings():  # the same model: warned above
            warnings.simplefilter('ignore', ModelDomainWarning)
            whole_image = FERInferencer(
                inferencer.model,
                no_detect=True,
                precision=precision,
                backend=inferencer.backend.name,
                onnx_file=onnx_file,
                num_threads=num_threads,
                temperature=inferencer.temperature)  # the checkpoint's
        name = (f'{osp.splitext(osp.basename(config))[0]} · '
                f'{osp.basename(checkpoint)}')
        return cls(inferencer, whole_image, name, **kwargs)

    @property
    def classes(self) -> Optional[List[str]]:
        return self.inferencer.classes

    def info(self) -> dict:
        """What the page shows about the model before any upload."""
        return dict(
            model=self.model_name,
            device=self.device,
            classes=self.classes,
            num_heads=self.num_heads,
            max_side=self.max_side,
            max_pixels=self.max_pixels,
            notice=self.notice,
            calibration=self.inferencer.calibration_note)

    def _class_name(self, label: int) -> str:
        return self.classes[label] if self.classes else str(label)

    def _face_json(self, img: np.ndarray, face: dict, number: int) -> dict:
        # The fields predictions.jsonl has (box, landmarks, ...), plus what
        # the page shows.
        record = face_record(face)
        scores = face['pred_scores']
        label = face['pred_label']
        return dict(
            box=record['box'],
            det_score=record['det_score'],
            landmarks=record['landmarks'],
            crop_box=record['crop_box'],
            **({} if 'track_id' not in record else dict(
                track_id=record['track_id'])),
            label=self._class_name(label),
            score=round(float(scores[label]), 4),
            uncertain=bool(face.get('uncertain', False)),
            scores=[
                dict(name=self._class_name(i), p=round(float(p), 4))
                for i, p in enumerate(scores)
            ],
            panels=data_url(
                draw_attention_panels(
                    img, [face], self.panel_size, ids=[number]), '.jpg'))

    def predict(self,
                data: bytes,
                whole_image: bool = False,
                min_confidence: Optional[float] = None) -> dict:
        """Find and classify every face of one uploaded image.

        Args:
            data (bytes): The uploaded file.
            whole_image (bool): Skip detection: the whole image is one face.
                Defaults to False.
            min_confidence (float, optional): Mark faces whose (calibrated)
                top probability is below it ``uncertain``: drawn with "?"
                (the page's slider). Defaults to the inferencer's.

        Returns:
            dict: ``image`` (the photo with numbered, labelled boxes, a
            ``data:`` URL), ``faces`` (per face ``box``, ``label``,
            ``score``, ``uncertain``, ``scores`` [``{name, p}`` per class]
            and ``panels``,
            the crop and each head's attention, a ``data:`` URL), ``size``
            ``[W, H]`` as classified, ``resized_from`` (the upload's
            ``[W, H]`` when it was shrunk, else None), ``whole_image``,
            ``message`` (None, or why no face was found), ``notice``
            (None, or why the labels of a model of drawn faces mean nothing
            on real photos; the page shows it next to them), ``time_s``
            (``total`` and ``inference``), ``model`` and ``device``.

        Raises:
            InputError: The upload is not an image, or too large.
        """
        start = time.perf_counter()
        img, original = decode_image(
            data,
            name='(the upload)',
            max_pixels=self.max_pixels,
            max_side=self.max_side,
            return_size=True)
        inferencer = self.whole_image_inferencer if whole_image \
            else self.inferencer
        infer_start = time.perf_counter()
        faces = inferencer(img, return_maps=True)[0]['faces']
        if min_confidence is not None:
            for face in faces:
                mark_uncertain(face, min_confidence)
        infer_time = time.perf_counter() - infer_start
        size = [img.shape[1], img.shape[0]]
        answer = dict(
            image=data_url(draw_faces(img, faces), '.jpg'),
            faces=[
                dict(
                    self._face_json(img, face, face_number(face, i)),
                    **face_style(face_number(face, i)))
                for i, face in enumerate(faces)
            ],
            size=size,
            resized_from=list(original) if list(original) != size else None,
            whole_image=whole_image,
            message=None if faces else NO_FACE_MESSAGE,
            notice=self.notice,
            model=self.model_name,
            device=self.device)
        answer['time_s'] = dict(
            total=round(time.perf_counter() - start, 4),
            inference=round(infer_time, 4))
        return answer
