"""mmpretrain's own bundled tools, unchanged, on dan_mm configs.

One tiny training run (tools/train.py --tensorboard, 2 iterations and a
validation) gives the checkpoint, the JSON log and the TensorBoard events
that the tools read; each tool then runs as ``python <mmpretrain>/.mim/
tools/...`` or ``mim run mmpretrain ...``, as a user would.
"""
import glob
import os
import os.path as osp
import pickle
import shutil

import mmpretrain
import pytest
from config_utils import write_config
from fer_test_utils import REPO
from mmengine.config import Config
from tool_runner import run_tool

MMP_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')


def mmpretrain_tool(path, *args, via_mim=False, cwd=None):
    """Run one of mmpretrain's tools; return its output (fails the test on
    a non-zero exit)."""
    if via_mim:
        command = [
            '-m', 'mim', 'run', 'mmpretrain',
            osp.splitext(osp.basename(path))[0]
        ]
    else:
        command = [osp.join(MMP_TOOLS, path)]
    result = run_tool(*command, *map(str, args), cwd=cwd, in_process=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def test_no_config_passes_scope_keys_to_tools():
    # A `mmpretrain::` base puts `_scope_` into every dict with a `type`;
    # browse_dataset.py passes cfg.visualizer on as keywords and failed.
    def scopes(node, key=''):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from ([key] if k == '_scope_' else scopes(
                    v, f'{key}.{k}'))
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                yield from scopes(v, f'{key}.{i}')

    for path in sorted(glob.glob(osp.join(REPO, 'configs', '*.py'))):
        cfg = Config.fromfile(path)
        assert list(scopes(cfg.to_dict())) == [], path
        assert cfg.default_scope == 'mmpretrain'


@pytest.fixture(scope='module')
def run(synthfer_root, tmp_path_factory):
    """Config, checkpoint, log and test image of one tiny training run."""
    tmp = tmp_path_factory.mktemp('tools')
    config = write_config(
        tmp / 'tiny.py',
        synthfer_root,
        max_iters=2,
        ckpt_interval=2,
        val_interval=2)
    work_dir = str(tmp / 'work')
    result = run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        work_dir,
        '--tensorboard',
        in_process=False)
    assert result.returncode == 0, result.stderr[-4000:]
    (log_dir, ) = glob.glob(osp.join(work_dir, '2*'))
    return dict(
        tmp=tmp,
        config=config,
        data_root=synthfer_root,
        checkpoint=osp.join(work_dir, 'iter_2.pth'),
        log_dir=log_dir,
        image=osp.join(synthfer_root, 'Image', 'aligned',
                       'test_0001_aligned.jpg'))


@pytest.mark.slow
def test_print_config_and_get_flops(run):
    out = mmpretrain_tool('misc/print_config.py', run['config'])
    assert "type='DAN'" in out and "type='FusionClsHead'" in out
    out = mmpretrain_tool('analysis_tools/get_flops.py', run['config'],
                          '--shape', 64)
    assert 'Flops:' in out and 'Params: 19.7' in out


@pytest.mark.slow
@pytest.mark.parametrize('mode',
                         ['original', 'transformed', 'concat', 'pipeline'])
def test_browse_dataset_through_mim(run, mode):
    # The modes but 'original' call matplotlib's private adjust_bbox, whose
    # signature changed in matplotlib 3.11 (requirements/runtime.txt pins
    # below it).
    out_dir = run['tmp'] / f'browse_{mode}'
    mmpretrain_tool(
        'visualization/browse_dataset.py',
        run['config'],
        '--output-dir',
        out_dir,
        '--show-number',
        3,
        '--mode',
        mode,
        via_mim=True)
    assert len(os.listdir(out_dir)) == 3


@pytest.mark.slow
def test_verify_dataset_finds_a_broken_image(run):
    root = run['tmp'] / 'broken_copy'
    shutil.copytree(run['data_root'], root)
    broken = root / 'Image' / 'aligned' / 'train_00003_aligned.jpg'
    broken.write_bytes(b'not an image')
    log = run['tmp'] / 'broken.log'
    # No override of the pipeline: the tool finds dan_mm's LoadFaceImage as
    # the LoadImageFromFile it subclasses (compat.match_transform_subclasses).
    out = mmpretrain_tool('misc/verify_dataset.py', run['config'],
                          '--out-path', log, '--cfg-options',
                          f'train_dataloader.dataset.data_root={root}')
    assert '1 broken files found' in out
    assert log.read_text().strip() == str(broken)


@pytest.mark.slow
def test_analyze_logs(run):
    scalars = osp.join(run['log_dir'], 'vis_data', 'scalars.json')
    curve = run['tmp'] / 'curve.png'
    mmpretrain_tool('analysis_tools/analyze_logs.py', 'plot_curve', scalars,
                    '--keys', 'loss', 'loss_af', 'loss_pt', '--out', curve)
    assert curve.stat().st_size > 0
    out = mmpretrain_tool('analysis_tools/analyze_logs.py', 'cal_train_time',
                          scalars)
    assert 'average iter time' in out


@pytest.mark.slow
def test_result_tools_on_mmpretrain_test_output(run):
    tmp = run['tmp']
    results = tmp / 'results.pkl'
    out = mmpretrain_tool('test.py', run['config'], run['checkpoint'],
                          '--work-dir', tmp / 'test', '--out', results)
    assert 'fer/top1' in out
    with open(results, 'rb') as f:
        assert len(pickle.load(f)) == 14  # every test image

    out = mmpretrain_tool('analysis_tools/eval_metric.py', results, '--metric',
                          'type=Accuracy', '--metric',
                          'type=dan_mm.evaluation.FERMetric')
    top1 = [
        float(line.split(':')[1].strip(' ,')) for line in out.splitlines()
        if "'accuracy/top1'" in line or "'fer/top1'" in line
    ]
    assert len(top1) == 2 and top1[0] == pytest.approx(top1[1], abs=1e-3)

    matrix = tmp / 'confusion_matrix.png'
    mmpretrain_tool('analysis_tools/confusion_matrix.py', run['config'],
                    results, '--show-path', matrix, '--include-values')
    assert matrix.stat().st_size > 0

    mmpretrain_tool('analysis_tools/analyze_results.py', run['config'],
                    results, '--out-dir', tmp / 'analysis', '--topk', 2)
    drawn = glob.glob(str(tmp / 'analysis' / '*' / '*.png'))
    assert 0 < len(drawn) <= 4


@pytest.mark.slow
def test_vis_cam_on_the_backbone_and_on_a_head(run):
    backbone = run['tmp'] / 'cam_backbone.png'
    head = run['tmp'] / 'cam_head.png'
    mmpretrain_tool('visualization/vis_cam.py', run['image'], run['config'],
                    run['checkpoint'], '--save-path', backbone)
    mmpretrain_tool(
        'visualization/vis_cam.py',
        run['image'],
        run['config'],
        run['checkpoint'],
        '--target-layers',
        'neck.heads.1.sa',
        '--save-path',
        head,
        via_mim=True)
    assert backbone.read_bytes() != head.read_bytes()


@pytest.mark.slow
def test_vis_tsne_on_backbone_features(run):
    work_dir = run['tmp'] / 'tsne'
    mmpretrain_tool('visualization/vis_tsne.py', run['config'], '--checkpoint',
                    run['checkpoint'], '--work-dir', work_dir, '--vis-stage',
                    'backbone', '--perplexity', 5)
    assert glob.glob(str(work_dir / '*' / 'feat_3.png'))


@pytest.mark.slow
def test_vis_scheduler(run):
    plot = run['tmp'] / 'lr.png'
    out = mmpretrain_tool('visualization/vis_scheduler.py',
                          osp.join(REPO, 'configs',
                                   'dan_r18_synthfer.py'), '--dataset-size',
                          2800, '--ngpus', 1, '--save-path', plot)
    assert 'Iterations per epoch: 87' in out
    assert plot.stat().st_size > 0


def tensorboard_tags(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    (events, ) = glob.glob(osp.join(log_dir, 'vis_data', 'events.out.*'))
    accumulator = EventAccumulator(events, size_guidance={'images': 0})
    accumulator.Reload()
    return accumulator


@pytest.mark.slow
def test_tensorboard_switch_logs_scalars_matrix_and_attention(run):
    train = tensorboard_tags(run['log_dir'])
    tags = train.Tags()
    assert {'loss', 'loss_cls', 'loss_af', 'loss_pt', 'lr',
            'fer/top1'} <= set(tags['scalars'])
    assert set(tags['images']) == {'val/confusion_matrix', 'val/attention'}
    (attention, ) = train.Images('val/attention')
    # 4 images, one row each: the input and K=4 heads, 96 px panels.
    assert (attention.step, attention.height, attention.width) == (2, 384, 480)

    work_dir = str(run['tmp'] / 'test_tb')
    result = run_tool(
        'tools/test.py',
        run['config'],
        run['checkpoint'],
        '--work-dir',
        work_dir,
        '--tensorboard',
        in_process=False)
    assert result.returncode == 0, result.stderr[-4000:]
    (log_dir, ) = glob.glob(osp.join(work_dir, '2*'))
    tags = tensorboard_tags(log_dir).Tags()
    assert set(tags['images']) == {'test/confusion_matrix', 'test/attention'}
    assert {'test/fer/top1',
            'test/fer/balanced_accuracy'} <= set(tags['scalars'])
