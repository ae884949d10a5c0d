from .fer_metric import FERMetric, fer_metrics, save_confusion_matrix

__all__ = ['FERMetric', 'fer_metrics', 'save_confusion_matrix']
