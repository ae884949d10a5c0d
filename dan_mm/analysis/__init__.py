"""Measurements of a model: inference speed and precision agreement."""
from .benchmark import (benchmark_speed, build_benchmark_model,
                        build_test_loader, cpu_name, format_agreement,
                        format_part, prediction_agreement, quiet_mmengine_log,
                        run_benchmark, summarize, time_onnx, time_part)

__all__ = [
    'benchmark_speed', 'build_benchmark_model', 'build_test_loader',
    'cpu_name', 'format_agreement', 'format_part', 'prediction_agreement',
    'quiet_mmengine_log', 'run_benchmark', 'summarize', 'time_onnx',
    'time_part'
]
