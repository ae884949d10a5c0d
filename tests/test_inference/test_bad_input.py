"""Bad input: each case either loads as 8-bit BGR or stops naming the file."""
import shutil
from unittest import mock

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import MMLogger
from PIL import Image

from dan_mm.datasets import RAFDB, LoadFaceImage
from dan_mm.utils.errors import UnreadableImageError

FACE = (np.random.RandomState(0).rand(48, 40, 3) * 255).astype(np.uint8)


def load(path, **kwargs):
    return LoadFaceImage(**kwargs)(dict(img_path=str(path)))


def jpeg_bytes(img=FACE):
    return cv2.imencode('.jpg', img)[1].tobytes()


# ---- images that are valid faces: converted to 3-channel 8-bit BGR ----


def test_plain_jpeg_matches_load_image_from_file(tmp_path):
    """The configs' switch to LoadFaceImage changes nothing for 8-bit BGR."""
    path = tmp_path / 'face.jpg'
    path.write_bytes(jpeg_bytes())
    ours = load(path)
    ref = LoadImageFromFile()(dict(img_path=str(path)))
    assert ours['img'].dtype == np.uint8 and ours['img'].shape == (48, 40, 3)
    assert np.array_equal(ours['img'], ref['img'])
    assert ours['ori_shape'] == ours['img_shape'] == (48, 40)


def test_grayscale_is_replicated_to_bgr(tmp_path):
    gray = FACE[..., 0]
    cv2.imwrite(str(tmp_path / 'gray.png'), gray)
    img = load(tmp_path / 'gray.png')['img']
    assert img.shape == (48, 40, 3) and img.dtype == np.uint8
    for channel in range(3):
        assert np.array_equal(img[..., channel], gray)


@pytest.mark.parametrize('mode', ['RGBA', 'LA'])
def test_alpha_channel_is_dropped(tmp_path, mode):
    rgb = FACE[..., ::-1]
    if mode == 'RGBA':
        arr = np.dstack([rgb, np.full(rgb.shape[:2], 77, np.uint8)])
        expected = FACE
    else:  # grayscale + alpha
        arr = np.dstack([rgb[..., 0], np.full(rgb.shape[:2], 77, np.uint8)])
        expected = np.repeat(rgb[..., :1], 3, axis=2)
    Image.fromarray(arr, mode).save(tmp_path / 'alpha.png')
    img = load(tmp_path / 'alpha.png')['img']
    assert img.shape == (48, 40, 3) and img.dtype == np.uint8
    assert np.array_equal(img, expected)


@pytest.mark.parametrize('channels', [1, 3])
def test_16_bit_is_scaled_to_8_bit(tmp_path, channels):
    img16 = (FACE.astype(np.uint16) * 257)  # 8-bit values, 16-bit range
    img16[0, 0] = 65535
    img16[0, 1] = 256  # rounds to 1
    if channels == 1:
        img16 = img16[..., 0]
    cv2.imwrite(str(tmp_path / 'deep.png'), img16)
    img = load(tmp_path / 'deep.png')['img']
    assert img.dtype == np.uint8 and img.shape == (48, 40, 3)
    expected = FACE.copy()
    expected[0, 0], expected[0, 1] = 255, 1
    if channels == 1:
        expected = np.repeat(expected[..., :1], 3, axis=2)
    assert np.array_equal(img, expected)


def test_huge_image_is_downsized_keeping_aspect(tmp_path):
    big = np.zeros((3000, 1500, 3), np.uint8)
    big[:, 750:] = 200  # right half bright
    cv2.imwrite(str(tmp_path / 'huge.png'), big)
    img = load(tmp_path / 'huge.png')['img']  # default max_side=2048
    assert img.shape == (2048, 1024, 3)
    assert img[:, :500].max() == 0 and img[:, 530:].min() == 200
    assert load(
        tmp_path / 'huge.png', max_side=300)['img'].shape == (300, 150, 3)
    assert load(
        tmp_path / 'huge.png', max_side=None)['img'].shape == (3000, 1500, 3)


# ---- unreadable images: one line naming the file and the reason ----


def _truncated_jpeg():
    face = cv2.resize(FACE, (200, 200))
    data = jpeg_bytes(face)
    return data[:len(data) * 2 // 3]  # header and part of the scan


@pytest.mark.parametrize('content,reason', [
    (b'', 'zero-byte file'),
    (None, 'truncated JPEG (no end-of-image marker)'),
    (b'this is not an image at all' * 10, 'corrupt or not an image'),
    (b'\x89PNG\r\n\x1a\n' + b'\x00' * 50, 'corrupt or not an image'),
])
def test_unreadable_image_names_file_and_reason(tmp_path, content, reason):
    path = tmp_path / 'bad.jpg'
    path.write_bytes(_truncated_jpeg() if content is None else content)
    with pytest.raises(UnreadableImageError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f'cannot read image {path}: {reason}')
    assert '\n' not in message


def test_missing_image_names_file(tmp_path):
    with pytest.raises(
            UnreadableImageError,
            match=f'cannot read image {tmp_path}/gone.jpg: '
            'file not found'):
        load(tmp_path / 'gone.jpg')


def test_skip_unreadable_returns_none_and_counts(tmp_path):
    (tmp_path / 'empty.jpg').write_bytes(b'')
    (tmp_path / 'good.jpg').write_bytes(jpeg_bytes())
    loader = LoadFaceImage(skip_unreadable=True)
    with mock.patch.object(MMLogger.get_current_instance(), 'warning') as log:
        assert loader(dict(img_path=str(tmp_path / 'empty.jpg'))) is None
        assert loader(dict(img_path=str(tmp_path / 'missing.jpg'))) is None
        assert loader(dict(img_path=str(tmp_path / 'good.jpg')))['img'].shape \
            == (48, 40, 3)
    assert loader.num_skipped == 2
    messages = [call.args[0] for call in log.call_args_list]
    assert messages == [
        f'cannot read image {tmp_path}/empty.jpg: zero-byte file; skipped '
        '(1 unreadable image(s) skipped so far by this loader)',
        f'cannot read image {tmp_path}/missing.jpg: file not found; skipped '
        '(2 unreadable image(s) skipped so far by this loader)'
    ]


@pytest.fixture
def broken_copy(synthfer_root, tmp_path):
    """A copy of the tiny set whose train_00003 and test_0002 are broken."""
    root = tmp_path / 'broken'
    shutil.copytree(synthfer_root, root)
    for name in ('train_00003', 'test_0002'):
        (root / 'Image' / 'aligned' /
         f'{name}_aligned.jpg').write_bytes(b'\xff\xd8\xff\xe0 garbage')
    return root


def test_training_skips_unreadable_images_with_refetch(broken_copy):
    """BaseDataset draws another sample when the loader returns None."""
    pipeline = [
        dict(type='LoadFaceImage', skip_unreadable=True),
        dict(type='PackInputs')
    ]
    dataset = RAFDB(str(broken_copy), split='train', pipeline=pipeline)
    bad = [
        i for i in range(len(dataset))
        if 'train_00003' in dataset.get_data_info(i)['img_path']
    ]
    np.random.seed(0)  # BaseDataset draws the replacement with np.random
    sample = dataset[bad[0]]
    assert 'train_00003' not in sample['data_samples'].img_path
    assert sample['inputs'].shape == (3, 64, 64)
    loader = dataset.pipeline.transforms[0]
    assert loader.num_skipped == 1


def test_test_split_stops_on_unreadable_image(broken_copy):
    """Test sets never skip (metrics must count every image)."""
    pipeline = [dict(type='LoadFaceImage'), dict(type='PackInputs')]
    dataset = RAFDB(str(broken_copy), split='test', pipeline=pipeline)
    bad = [
        i for i in range(len(dataset))
        if 'test_0002' in dataset.get_data_info(i)['img_path']
    ][0]
    with pytest.raises(
            UnreadableImageError,
            match=r'cannot read image '
            r'\S+/test_0002_aligned\.jpg: corrupt or not an image'):
        dataset[bad]


def test_in_memory_image_passes_through():
    """FER2013/FERPlus decode in memory: the shared pipeline must keep it."""
    from dan_mm.datasets import LoadFaceImage
    img = np.random.randint(0, 255, (48, 48, 3), dtype=np.uint8)
    out = LoadFaceImage()(dict(img=img, img_shape=(48, 48), gt_label=3))
    assert out['img'] is img and out['gt_label'] == 3
