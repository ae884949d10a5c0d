"""Every error a user can cause ends a tool with one line and status 1.

Each bad input goes to tools/train.py and tools/test.py, with no data-loader
workers and with two (errors raised inside a worker come back through
PyTorch's re-raise); the run must exit with 1 and print exactly one
``error:`` line that names the file or config key, and no traceback. The
cases run as forked children of one process per tool
(``tool_runner.run_tool(..., cases=...)``), so the table costs two start-ups. A
torchrun run of two CPU processes checks the same on every rank, and
``--debug`` / ``DAN_MM_DEBUG=1`` bring the traceback back.
"""
import os
import re
import shutil
import subprocess

import pytest
import torch
from config_utils import write_config
from fer_fixtures import make_affectnet_folders
from fer_test_utils import REPO
from mmengine.config import Config
from mmpretrain.registry import MODELS
from tool_runner import run_tool

pytestmark = pytest.mark.slow


def error_lines(proc):
    return [
        line for line in (proc.stdout + proc.stderr).splitlines()
        if line.startswith('error:')
    ]


def assert_one_line(proc, pattern):
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-3000:]
    assert 'Traceback' not in output, output[-3000:]
    lines = error_lines(proc)
    assert len(lines) == 1, lines
    assert re.search(pattern, lines[0]), lines[0]


def save_checkpoint(path, **model_change):
    cfg = Config.fromfile(f'{REPO}/configs/_base_/models/dan_r18.py')
    cfg.merge_from_dict(dict(model=model_change))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


@pytest.fixture(scope='module')
def bad(synthfer_root, tmp_path_factory):
    """The tiny SynthFER set, and a bad version of each input."""
    tmp = tmp_path_factory.mktemp('bad')
    label_file = 'EmoLabel/list_patition_label.txt'
    labels = tmp / 'labels'
    shutil.copytree(synthfer_root, labels)
    with open(labels / label_file, 'a') as f:
        f.write('train_99999.jpg 9\n')
    images = tmp / 'images'
    shutil.copytree(synthfer_root, images)
    for path in (images / 'Image' / 'aligned').iterdir():
        path.write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
    one_image = tmp / 'one_image'
    shutil.copytree(synthfer_root, one_image)
    (one_image / 'Image' / 'aligned' /
     'train_00002_aligned.jpg').write_bytes(b'not an image')
    affectnet = tmp / 'affectnet'
    make_affectnet_folders(str(affectnet), {'train': [1], 'val': [2]})
    (affectnet / 'list.csv').write_text('path,label\ntrain/1/img0.jpg,1\n')
    (tmp / 'damaged.pth').write_bytes(b'PK\x03\x04 half a zip file')
    (tmp / 'syntax.py').write_text('model = dict(type="DAN"\n')
    return dict(
        # with a validation loader (never run): the cases set its workers
        config=write_config(
            tmp / 'tiny.py', synthfer_root, val_interval=10**6),
        labels=str(labels),
        label_file=label_file,
        images=str(images),
        one_image=str(one_image),
        affectnet=str(affectnet),
        ckpt=save_checkpoint(tmp / 'good.pth'),
        ckpt_k2=save_checkpoint(tmp / 'k2.pth', neck=dict(num_heads=2)),
        damaged=str(tmp / 'damaged.pth'),
        missing=str(tmp / 'missing.pth'),
        syntax=str(tmp / 'syntax.py'),
        tmp=tmp)


def options(loaders, **values):
    """``--cfg-options`` setting ``values`` under each of ``loaders``."""
    return [
        f'{loader}.{key}={value}' for loader in loaders
        for key, value in values.items()
    ]


TRAIN = ('train_dataloader', )
TEST = ('test_dataloader', )


def cases(bad, tool):
    """``(name, config, extra args, cfg-options, expected pattern)``."""
    loaders = TRAIN if tool == 'train' else TEST
    root = {
        'train': 'train_dataloader.dataset',
        'test': 'test_dataloader.dataset'
    }[tool]
    ckpt_arg = (['--resume'] if tool == 'train' else [])
    table = [
        ('data root', None, [],
         options(loaders, **{'dataset.data_root': bad['tmp'] / 'nowhere'}),
         re.escape(root) + r'.data_root: \S+/nowhere does not exist; put '
         r'or link the data set there'),
        ('label file', None, [],
         options(loaders, **{'dataset.data_root': bad['labels']}),
         re.escape(bad['label_file']) + r':\d+: label 9 of train_99999.jpg '
         r'is outside 1\.\.7'),
        ('CSV', None, [],
         options(
             loaders, **{
                 'dataset.type': 'AffectNet',
                 'dataset.data_root': bad['affectnet'],
                 'dataset.ann_file': 'list.csv',
                 'dataset.split': 'train'
             }),
         r'\S+/list.csv has no split column .* give each split its own '
         r'file'),
        ('image', None, [],
         options(loaders, **{'dataset.data_root': bad['images']}),
         r'cannot read image \S+/images/Image/aligned/\S+_aligned.jpg: '
         r'corrupt or not an image'),
        ('unknown type', None, [], ['model.backbone.type=ResNett'],
         r'model.backbone.type: "ResNett" is not a registered '
         r'mmpretrain::model type'),
        ('unknown key', None, [], options(loaders,
                                          **{'dataset.data_rot': 'x'}),
         re.escape(root) + r'.data_rot: RAFDB takes no argument "data_rot"'),
        ('config file', bad['tmp'] / 'nope.py', [], [],
         r'config file not found: \S+/nope.py'),
        ('config syntax', bad['syntax'], [], [],
         r'cannot parse config \S+/syntax.py'),
        ('missing checkpoint', None, ckpt_arg + [bad['missing']], [],
         r'checkpoint not found: \S+/missing.pth'),
        ('damaged checkpoint', None, ckpt_arg + [bad['damaged']], [],
         r'cannot read checkpoint \S+/damaged.pth: not a PyTorch '
         r'checkpoint, or damaged'),
        ('num_heads', None, ckpt_arg + [bad['ckpt_k2']], [],
         r'The checkpoint has 2 attention heads .* '
         r'set model.neck.num_heads=2'),
        (
            'num_classes',
            None,
            [],
            ['model.head.num_classes=8', 'data_preprocessor.num_classes=8'],
            # training checks the data, testing first meets the checkpoint
            r'model.head.num_classes=8 but the train data set RAFDB has 7 '
            r'classes' if tool == 'train' else r'cannot load checkpoint \S+/'
            r'good.pth: .* \(num_classes=7, .* builds num_classes=8'),
    ]
    if tool == 'train':
        table.append(('pretrained file', None, [], [
            'model.backbone.init_cfg.0.type=Pretrained',
            f'model.backbone.init_cfg.0.checkpoint={bad["missing"]}'
        ], r'\S+/missing.pth'))
        table.append(
            ('cfg-options path', None, [],
             ['model.backbone.init_cfg.type=Pretrained'],
             r'--cfg-options model.backbone.init_cfg.type=\S+ does not fit '
             r'the config'))
    else:  # test: the tool's CHECKPOINT argument comes first
        for i, case in enumerate(table):
            name, config, args, opts, pattern = case
            table[i] = (name, config, args or [bad['ckpt']], opts, pattern)
    return table


def argv(bad, case, num_workers, work_dir):
    name, config, args, opts, _ = case
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    return [str(config or bad['config'])] + [str(a) for a in args] + [
        '--work-dir', str(work_dir), '--cfg-options'
    ] + [str(o) for o in opts] + options(
        loaders, num_workers=num_workers)


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_every_user_error_is_one_line(bad, tool, tmp_path):
    table = cases(bad, tool)
    runs = [(case, workers) for case in table for workers in (0, 2)]
    results = run_tool(
        f'tools/{tool}.py',
        cases=[
            argv(bad, case, workers, tmp_path / f'w{i}')
            for i, (case, workers) in enumerate(runs)
        ])
    failures = []
    for (case, workers), proc in zip(runs, results):
        try:
            assert_one_line(proc, case[4])
        except AssertionError as err:
            failures.append(f'{case[0]} (num_workers={workers}): {err}')
    assert not failures, '\n\n'.join(failures)


def test_debug_shows_the_traceback(bad, tmp_path):
    case = ('data root', None, [],
            options(TRAIN, **{'dataset.data_root':
                              bad['tmp'] / 'nowhere'}), '')
    args = argv(bad, case, 0, tmp_path / 'w')
    flag, env = run_tool(
        'tools/train.py',
        cases=[
            args + ['--debug'],
            dict(argv=args, env=dict(DAN_MM_DEBUG='1'))
        ])
    for proc in (flag, env):
        assert proc.returncode == 1
        assert 'Traceback' in proc.stderr
        assert 'DataNotFoundError: train_dataloader.dataset.data_root: ' \
            in proc.stderr
        assert not error_lines(proc)


def test_a_bug_keeps_its_traceback(synthfer_root, tmp_path):
    """Only the project's typed errors are shortened."""
    cfg = write_config(
        tmp_path / 'bug.py',
        synthfer_root,
        probe_dir=tmp_path,
        fail_before_train=True)
    (proc, ) = run_tool(
        'tools/train.py', cases=[[cfg, '--work-dir',
                                  str(tmp_path / 'w')]])
    assert proc.returncode == 1
    assert 'Traceback' in proc.stderr and not error_lines(proc)
    assert 'RuntimeError: ProbeHook: a simulated bug' in proc.stderr


@pytest.mark.parametrize('where', ['every rank', 'one rank'])
def test_dist_train_user_error_on_any_rank_is_one_line(bad, tmp_path, where):
    """tools/dist_train.sh, 2 CPU processes (gloo). A bad label file stops
    both ranks; a broken image stops rank 1 alone, inside a data-loader
    worker, and rank 0 then loses its peer in DDP's all-reduce and must
    stop quietly."""
    from test_distributed import free_port
    if where == 'every rank':
        opts = options(TRAIN, **{'dataset.data_root': bad['labels']})
        pattern = r'list_patition_label.txt:\d+: label 9'
    else:  # unshuffled, data index 1 is rank 1's first sample
        opts = options(
            TRAIN, **{
                'dataset.data_root': bad['one_image'],
                'sampler.shuffle': False,
                'num_workers': 2
            })
        pattern = r'cannot read image \S+/train_00002_aligned.jpg'
    proc = subprocess.run(
        [
            'bash', 'tools/dist_train.sh', bad['config'], '2', '--work-dir',
            str(tmp_path / 'work'), '--cfg-options'
        ] + [str(o) for o in opts],
        cwd=REPO,
        env=dict(os.environ, PORT=str(free_port()), PYTHONPATH=REPO),
        capture_output=True,
        text=True,
        timeout=600)
    assert_one_line(proc, pattern)
