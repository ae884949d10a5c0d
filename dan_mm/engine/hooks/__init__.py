from .fer_visualization_hook import FERVisualizationHook
from .num_classes_check_hook import NumClassesCheckHook
from .save_confusion_matrix_hook import SaveConfusionMatrixHook

__all__ = [
    'FERVisualizationHook', 'NumClassesCheckHook', 'SaveConfusionMatrixHook'
]
