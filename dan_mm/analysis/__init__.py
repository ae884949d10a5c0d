"""Measurements of a model: inference speed, precision agreement, and the
speed of the whole video path (decode, detect, align, classify, draw)."""
from .benchmark import (benchmark_speed, build_benchmark_model,
                        build_test_loader, cpu_name, format_agreement,
                        format_part, prediction_agreement, quiet_mmengine_log,
                        run_benchmark, summarize, time_onnx, time_part)
from .face_template import TemplateFit, fit_face_template
from .video_benchmark import benchmark_video, write_face_clip

__all__ = [
    'benchmark_speed', 'build_benchmark_model', 'build_test_loader',
    'cpu_name', 'format_agreement', 'format_part', 'prediction_agreement',
    'quiet_mmengine_log', 'run_benchmark', 'summarize', 'time_onnx',
    'time_part', 'benchmark_video', 'write_face_clip', 'TemplateFit',
    'fit_face_template'
]
