from .fer_metric import FERMetric, save_confusion_matrix

__all__ = ['FERMetric', 'save_confusion_matrix']
