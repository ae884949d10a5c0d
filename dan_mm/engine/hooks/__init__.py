from .num_classes_check_hook import NumClassesCheckHook
from .save_confusion_matrix_hook import SaveConfusionMatrixHook

__all__ = ['NumClassesCheckHook', 'SaveConfusionMatrixHook']
