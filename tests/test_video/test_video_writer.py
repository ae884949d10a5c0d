"""The annotated MP4 is H.264 (browsers play it) where PyAV is installed,
mp4v otherwise, and says which."""
import cv2
import numpy as np
import pytest

from dan_mm.video.writer import H264, MP4V, AnnotatedVideoWriter, video_codec


def write_frames(path, h264, size=(61, 81), count=12):
    writer = AnnotatedVideoWriter(str(path), 12.5, h264=h264)
    rng = np.random.default_rng(0)
    for _ in range(count):
        writer.write(rng.integers(0, 255, (*size, 3), dtype=np.uint8))
    writer.release()
    return writer


def test_h264_by_default_with_pyav(tmp_path):
    import av  # requirements/runtime.txt
    assert video_codec() == H264
    path = tmp_path / 'out.mp4'
    writer = write_frames(path, h264=None)
    assert writer.codec == H264
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # yuv420p H.264: what browsers decode; odd sides cut to even.
        assert stream.codec_context.name == 'h264'
        assert stream.codec_context.pix_fmt == 'yuv420p'
        assert (stream.height, stream.width) == (60, 80)
        assert sum(1 for _ in container.decode(stream)) == 12
    capture = cv2.VideoCapture(str(path))  # OpenCV reads it back too
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 12
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12.5)


def test_mp4v_fallback_names_itself(tmp_path):
    path = tmp_path / 'out.mp4'
    writer = write_frames(path, h264=False)
    assert writer.codec == MP4V and 'browsers do not play it' in MP4V
    capture = cv2.VideoCapture(str(path))
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, 'little')
    assert fourcc == b'FMP4'  # FFmpeg's name of MPEG-4 Part 2
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 12


def test_no_frames_no_file(tmp_path):
    AnnotatedVideoWriter(str(tmp_path / 'out.mp4'), 25.).release()
    assert not (tmp_path / 'out.mp4').exists()
