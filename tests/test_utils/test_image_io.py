"""One decoder for every path: the formats photos come in, one-line errors
(zero-byte, decompression bomb, damaged), uploads shrunk and turned upright,
and the same array whichever path reads a file."""
import io
import struct
import zlib
from unittest import mock

import cv2
import numpy as np
import pytest
from fer_test_utils import (CONFIG, build_model, face_photo, faces_photo,
                            save_checkpoint)
from PIL import Image, ImageFile

from dan_mm.datasets import LoadFaceImage
from dan_mm.demo import DemoService
from dan_mm.inference import FERInferencer, ModelDomainWarning
from dan_mm.utils import (DEFAULT_MAX_IMAGE_PIXELS, decode_image,
                          max_image_pixels)
from dan_mm.utils.errors import ConfigError, InputError, UnreadableImageError

# A face-like colour image with structure (so that rotations show).
RGB = np.zeros((40, 64, 3), np.uint8)
RGB[:, :32] = (250, 20, 20)  # left half red
RGB[:20, 32:] = (20, 250, 20)  # top right green
RGB[20:, 32:] = (20, 20, 250)  # bottom right blue
BGR = RGB[..., ::-1]


def save(pil, path, fmt, **kwargs):
    pil.save(path, fmt, **kwargs)
    return path


# ---- formats: each decodes to (H, W, 3) uint8 BGR ----


@pytest.mark.parametrize(
    'orientation,expect',
    [
        (1, lambda a: a),
        (3, lambda a: a[::-1, ::-1]),
        (6, lambda a: np.rot90(a, -1)),  # 90 degrees clockwise
        (8, lambda a: np.rot90(a, 1)),
    ])
def test_exif_orientation_is_applied(tmp_path, orientation, expect):
    pil = Image.fromarray(RGB)
    exif = pil.getexif()
    exif[0x0112] = orientation
    path = save(pil, tmp_path / 'phone.png', 'PNG', exif=exif)
    img = decode_image(path)
    assert img.dtype == np.uint8 and img.shape == expect(BGR).shape
    assert np.array_equal(img, expect(BGR))


def test_exif_rotated_jpeg_is_transposed(tmp_path):
    pil = Image.fromarray(RGB)
    exif = pil.getexif()
    exif[0x0112] = 6
    path = save(pil, tmp_path / 'phone.jpg', 'JPEG', exif=exif, quality=95)
    img = decode_image(path)
    assert img.shape == (64, 40, 3)  # stored 64 wide, shown 40 wide
    # Left half (red) ends up on top once turned clockwise.
    assert img[:28, :, 2].mean() > 200 and img[:28, :, 0].mean() < 60
    # The same as OpenCV's colour decode, which also applies EXIF.
    assert np.abs(img.astype(int) -
                  cv2.imread(str(path), cv2.IMREAD_COLOR)).max() <= 1


def test_16_bit_png_gray_and_rgb_are_scaled_properly(tmp_path):
    deep = RGB.astype(np.uint16) * 257
    deep[0, 0] = (65535, 32896, 256)  # -> 255, 128, 1 (not the high byte)
    cv2.imwrite(str(tmp_path / 'rgb16.png'), deep[..., ::-1])
    expected = BGR.copy()
    expected[0, 0] = (1, 128, 255)
    img = decode_image(tmp_path / 'rgb16.png')
    assert img.dtype == np.uint8 and np.array_equal(img, expected)

    gray = deep[..., 1]
    Image.fromarray(gray).save(tmp_path / 'gray16.png')  # mode I;16
    assert Image.open(tmp_path / 'gray16.png').mode.startswith('I')
    img = decode_image(tmp_path / 'gray16.png')
    assert np.array_equal(img, np.repeat(expected[..., 1:2], 3, axis=2))


def test_alpha_is_dropped_not_composited(tmp_path):
    rgba = np.dstack([RGB, np.full(RGB.shape[:2], 0, np.uint8)])
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'clear.png')
    # Fully transparent, yet the colours come back as stored (as OpenCV).
    assert np.array_equal(decode_image(tmp_path / 'clear.png'), BGR)


def test_cmyk_jpeg_is_converted(tmp_path):
    pil = Image.fromarray(RGB).convert('CMYK')
    path = save(pil, tmp_path / 'print.jpg', 'JPEG', quality=95)
    assert Image.open(path).mode == 'CMYK'
    img = decode_image(path)
    assert img.shape == (40, 64, 3)
    assert np.abs(img.astype(int) - BGR).max() < 30


def test_palette_and_gray_and_1_bit(tmp_path):
    Image.fromarray(RGB).quantize(8).save(tmp_path / 'p.png')
    assert np.abs(decode_image(tmp_path / 'p.png').astype(int) -
                  BGR).max() < 10
    gray = RGB[..., 1]
    Image.fromarray(gray).save(tmp_path / 'l.png')
    assert np.array_equal(
        decode_image(tmp_path / 'l.png'), np.dstack([gray] * 3))
    Image.fromarray(gray > 128).save(tmp_path / 'bw.png')
    img = decode_image(tmp_path / 'bw.png')
    assert set(np.unique(img)) == {0, 255}


@pytest.mark.parametrize('fmt', ['GIF', 'WEBP', 'TIFF'])
def test_animation_gives_its_first_frame(tmp_path, fmt):
    first, second = Image.fromarray(RGB), Image.fromarray(255 - RGB)
    path = tmp_path / f'anim.{fmt.lower()}'
    kwargs = dict(lossless=True) if fmt == 'WEBP' else {}
    first.save(path, fmt, save_all=True, append_images=[second], **kwargs)
    assert getattr(Image.open(path), 'n_frames', 1) == 2
    img = decode_image(path)
    assert np.abs(img.astype(int) - BGR).max() < 10


# ---- one-line errors ----


def test_zero_byte_file_is_one_line(tmp_path):
    (tmp_path / 'empty.jpg').write_bytes(b'')
    with pytest.raises(UnreadableImageError) as info:
        decode_image(tmp_path / 'empty.jpg')
    assert str(info.value) == \
        f'cannot read image {tmp_path / "empty.jpg"}: zero-byte file'
    assert isinstance(info.value, InputError)  # inference input, too


def bomb_png(width, height):
    """A real 1x1 PNG whose IHDR (and its CRC) claims width x height."""
    buf = io.BytesIO()
    Image.new('RGB', (1, 1)).save(buf, 'PNG')
    data = bytearray(buf.getvalue())
    assert data[12:16] == b'IHDR'
    data[16:24] = struct.pack('>II', width, height)
    data[29:33] = struct.pack('>I', zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize('side', [40000, 10000])
def test_decompression_bomb_is_refused_from_the_header(tmp_path, side):
    """40000x40000 is past Pillow's own hard limit too, 10000x10000 only
    past ours; neither is decoded."""
    path = tmp_path / 'bomb.png'
    path.write_bytes(bomb_png(side, side))
    with mock.patch.object(ImageFile.ImageFile, 'load') as load, \
            mock.patch.object(cv2, 'imdecode') as imdecode:
        with pytest.raises(UnreadableImageError) as info:
            decode_image(path)
    load.assert_not_called()  # refused before any pixel is decoded
    imdecode.assert_not_called()
    message = str(info.value)
    assert '\n' not in message
    size = '1600000000 pixels (1600 MP)' if side == 40000 else \
        '10000x10000 pixels (100 MP)'
    assert message.startswith(
        f'cannot read image {path}: too large: {size}, more than the limit '
        f'of {DEFAULT_MAX_IMAGE_PIXELS} pixels (89.5 MP) that guards against '
        'decompression bombs; scale it down, or raise the limit')
    assert 'DAN_MM_MAX_IMAGE_PIXELS' in message


def test_pixel_limit_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / 'big.png'
    path.write_bytes(bomb_png(1000, 1000))  # a header: no pixels to decode
    monkeypatch.setenv('DAN_MM_MAX_IMAGE_PIXELS', '999999')
    assert max_image_pixels() == 999_999
    with pytest.raises(UnreadableImageError, match='1000x1000 pixels'):
        decode_image(path)
    monkeypatch.setenv('DAN_MM_MAX_IMAGE_PIXELS', '1000000')
    with pytest.raises(UnreadableImageError, match='damaged or cut short'):
        decode_image(path)  # allowed, then its missing data is noticed
    monkeypatch.setenv('DAN_MM_MAX_IMAGE_PIXELS', 'lots')
    with pytest.raises(ConfigError, match='DAN_MM_MAX_IMAGE_PIXELS=.lots.'):
        decode_image(path)
    # An explicit limit (the web demo's) does not point at the variable.
    with pytest.raises(UnreadableImageError) as info:
        decode_image(path, max_pixels=10)
    assert 'scale it down and try again' in str(info.value)


# ---- uploads (the web demo): bytes in, shrunk to a size ----


def encode(img, ext='.png'):
    return cv2.imencode(ext, img)[1].tobytes()


def test_decode_refuses_what_is_not_an_image():
    for data in (b'', b'just some text', b'\x89PNG\r\n\x1a\n broken'):
        with pytest.raises(InputError, match='zero-byte|not an image'):
            decode_image(data, max_pixels=10**6)


def test_decode_refuses_too_many_pixels_before_decoding():
    with pytest.raises(InputError, match='8000x8000 pixels .64 MP.'):
        decode_image(bomb_png(8000, 8000), max_pixels=50_000_000)
    # Past PIL's decompression-bomb limit.
    with pytest.raises(InputError, match='too large'):
        decode_image(bomb_png(30000, 30000), max_pixels=10**12)


def test_decode_refuses_a_damaged_file():
    data = encode(faces_photo(), '.jpg')
    with pytest.raises(InputError, match='damaged'):
        decode_image(data[:len(data) // 2], max_pixels=10**7)


def test_decode_shrinks_and_turns_phone_photos_upright():
    img = np.zeros((200, 400, 3), np.uint8)
    img[:, :200] = 255  # left half white
    pil = Image.fromarray(img)
    exif = pil.getexif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees clockwise
    buf = io.BytesIO()
    pil.save(buf, 'JPEG', exif=exif)
    out, original = decode_image(
        buf.getvalue(), max_pixels=10**6, max_side=100, return_size=True)
    assert original == (400, 200)
    assert out.shape == (100, 50, 3)  # upright: portrait, longer side 100
    # White (the left half) is on top once turned clockwise.
    assert out[:40].mean() > 200 and out[60:].mean() < 50


# ---- every path, the same array ----


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_checkpoint(build_model(),
                           tmp_path_factory.mktemp('io') / 'dan.pth')


def test_every_path_gives_the_same_array(checkpoint, tmp_path):
    """Loader, inferencer, web demo and visualize_attention (which decodes
    with decode_image and hands the array to the inferencer) see the same
    pixels for an EXIF-rotated 16-bit PNG with alpha and for a JPEG."""
    photo = face_photo(96)
    deep = np.dstack([
        photo.astype(np.uint16) * 257,
        np.full(photo.shape[:2], 9000, np.uint16)
    ])
    deep[0, 0, :3] = 300  # not a multiple of 257: rounding matters
    ok, png = cv2.imencode('.png', deep)
    pil = Image.open(io.BytesIO(png.tobytes()))
    exif = Image.Exif()
    exif[0x0112] = 8
    path_png = tmp_path / 'photo.png'
    path_png.write_bytes(_with_exif(png.tobytes(), exif.tobytes()))
    assert pil.size == (photo.shape[1], photo.shape[0])
    path_jpg = tmp_path / 'photo.jpg'
    cv2.imwrite(str(path_jpg), face_photo(80))

    with pytest.warns(ModelDomainWarning):
        inferencer = FERInferencer(
            CONFIG, checkpoint, device='cpu', no_detect=True)
    service = DemoService(inferencer, inferencer, 'test')
    for path in (path_png, path_jpg):
        loaded = LoadFaceImage()(dict(img_path=str(path)))['img']
        inferred = inferencer.load_image(str(path), 0)['img']
        demo_img, _ = decode_image(
            path.read_bytes(),
            max_pixels=service.max_pixels,
            max_side=service.max_side,
            return_size=True)
        assert loaded.dtype == np.uint8 and loaded.shape[2] == 3
        assert np.array_equal(loaded, inferred)
        assert np.array_equal(loaded, demo_img)
        # The demo's answer is built from that array: same size.
        answer = service.predict(path.read_bytes())
        assert answer['size'] == [loaded.shape[1], loaded.shape[0]]
        # Path in, or the decoded array in: the same scores.
        by_path = inferencer(str(path))[0]['faces'][0]['pred_scores']
        by_array = inferencer(loaded)[0]['faces'][0]['pred_scores']
        np.testing.assert_array_equal(by_path, by_array)
    # The PNG was turned (orientation 8: 90 degrees counter-clockwise).
    expected = np.rot90(np.round(deep[..., :3] / 257).astype(np.uint8), 1)
    assert np.array_equal(LoadFaceImage()(dict(img_path=str(path_png)))['img'],
                          expected)


def _with_exif(png: bytes, exif: bytes) -> bytes:
    """``png`` with an eXIf chunk after IHDR."""
    chunk = struct.pack('>I', len(exif)) + b'eXIf' + exif + struct.pack(
        '>I', zlib.crc32(b'eXIf' + exif))
    return png[:33] + chunk + png[33:]
