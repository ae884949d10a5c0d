"""Training and testing runs: the runner builder every tool goes through,
multi-seed runs, hooks and optimizer wrappers."""
from .folder_finetune_runner import (FolderFinetuneRunner,
                                     prepare_folder_finetune)
from .hooks import *  # noqa: F401,F403
from .multi_seed import run_multi_seed
from .optimizers import *  # noqa: F401,F403
from .runner import (build_runner, merge_test_args, merge_train_args,
                     naming_run_errors, run_test, run_train)

__all__ = [
    'build_runner', 'merge_train_args', 'merge_test_args', 'naming_run_errors',
    'run_train', 'run_test', 'run_multi_seed', 'FolderFinetuneRunner',
    'prepare_folder_finetune'
]
