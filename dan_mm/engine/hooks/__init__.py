from .save_confusion_matrix_hook import SaveConfusionMatrixHook

__all__ = ['SaveConfusionMatrixHook']
