"""The one entry the tools share: any source (photos, a folder, a video, a
camera) in, one ``predictions.jsonl`` record per face out."""
from .batch_predict import Source, check_source, iter_source, predict_source

__all__ = ['Source', 'check_source', 'iter_source', 'predict_source']
