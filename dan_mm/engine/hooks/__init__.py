from .class_match_hook import ClassMatchHook
from .fer_visualization_hook import FERVisualizationHook
from .num_classes_check_hook import NumClassesCheckHook
from .save_confusion_matrix_hook import SaveConfusionMatrixHook
from .start_vs_tuned_hook import StartVsTunedHook

__all__ = [
    'ClassMatchHook', 'FERVisualizationHook', 'NumClassesCheckHook',
    'SaveConfusionMatrixHook', 'StartVsTunedHook'
]
