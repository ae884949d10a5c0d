from .cross_dataset import cross_dataset_config, model_classes
from .metrics import FERMetric, fer_metrics, save_confusion_matrix

__all__ = [
    'FERMetric', 'fer_metrics', 'save_confusion_matrix',
    'cross_dataset_config', 'model_classes'
]
