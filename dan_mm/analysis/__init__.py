"""Measurements of dan_mm itself: speed benchmarks."""
from .video_benchmark import benchmark_video, write_face_clip

__all__ = ['benchmark_video', 'write_face_clip']
