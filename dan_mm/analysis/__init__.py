"""Measurements of a model: inference speed, precision agreement, and the
speed of the whole video path (decode, detect, align, classify, draw), each
with the environment it ran on."""
from .benchmark import (AgreementRun, ModelSetup, SpeedRun,
                        benchmark_agreement, benchmark_speed,
                        benchmark_speed_of_config, build_benchmark_model,
                        build_test_loader, format_agreement, format_part,
                        prediction_agreement, summarize, time_onnx, time_part)
from .face_template import TemplateFit, fit_face_template
from .video_benchmark import benchmark_video, write_face_clip

__all__ = [
    'ModelSetup', 'SpeedRun', 'AgreementRun', 'benchmark_speed_of_config',
    'benchmark_agreement', 'benchmark_speed', 'build_benchmark_model',
    'build_test_loader', 'format_agreement', 'format_part',
    'prediction_agreement', 'summarize', 'time_onnx', 'time_part',
    'benchmark_video', 'write_face_clip', 'TemplateFit', 'fit_face_template'
]
