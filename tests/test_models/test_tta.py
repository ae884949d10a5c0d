"""Flip test-time augmentation: tools/test.py --tta, the configs' TTA."""
import glob

import pytest
import torch
from config_utils import write_config
from fer_test_utils import REPO, build_model, save_checkpoint
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmpretrain.registry import MODELS
from tool_runner import run_tool

from dan_mm.engine.run_config import apply_tta

SYNTHFER = f'{REPO}/configs/dan_r18_synthfer.py'


@pytest.mark.parametrize(
    'name',
    ['dan_r18_rafdb.py', 'dan_r18_affectnet8.py', 'dan_r18_synthfer.py'])
def test_configs_flip_their_own_test_pipeline(name):
    cfg = Config.fromfile(f'{REPO}/configs/{name}')
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    assert cfg.tta_model.type == 'AverageClsScoreTTA'
    assert cfg.tta_pipeline[:-1] == test_pipeline[:-1]  # same size
    flips = cfg.tta_pipeline[-1].transforms[0]
    assert [t['prob'] for t in flips] == [1.0, 0.0]
    assert {t['direction'] for t in flips} == {'horizontal'}


def test_flip_tta_averages_the_scores_of_an_image_and_its_mirror(
        synthfer_root):
    cfg = Config.fromfile(SYNTHFER)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()  # PyTorch's init: no logging
    apply_tta(cfg)
    assert cfg.model.type == 'AverageClsScoreTTA'
    tta = MODELS.build(dict(type=cfg.model.type, module=model)).eval()
    image = sorted(glob.glob(f'{synthfer_root}/Image/aligned/test_*'))[0]
    sample = Compose(cfg.test_dataloader.dataset.pipeline)(
        dict(img_path=image, gt_label=2))
    flipped, plain = sample['inputs']
    assert torch.equal(flipped, plain.flip(-1))
    with torch.no_grad():
        # untrained BN statistics give huge logits: scale them to at most 1
        # so that the softmax scores are not all 0 or 1
        inputs = model.data_preprocessor(
            default_collate([dict(inputs=plain)]))['inputs']
        logits = model(inputs, mode='tensor')
        model.head.bn.running_var.fill_(logits.abs().max().item()**2)
        result = tta.test_step(default_collate([sample]))[0]
        scores = [
            model.test_step(default_collate([dict(inputs=x, data_samples=s)
                                             ]))[0].pred_score
            for x, s in zip(sample['inputs'], sample['data_samples'])
        ]
    assert not torch.allclose(scores[0], scores[1])
    assert torch.allclose(result.pred_score, (scores[0] + scores[1]) / 2)
    assert result.pred_label.item() == result.pred_score.argmax().item()
    assert result.gt_label.item() == 2  # the metric still sees the label


def test_config_without_tta_gets_mmpretrains_flip_tta():
    cfg = Config.fromfile(SYNTHFER)
    cfg = Config({
        k: v
        for k, v in cfg.to_dict().items() if not k.startswith('tta_')
    })
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    apply_tta(cfg)
    assert cfg.model.type == 'AverageClsScoreTTA'
    assert cfg.model.module.type == 'DAN'
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[:-1] == test_pipeline[:-1]
    assert pipeline[-1].type == 'TestTimeAug'


@pytest.mark.slow
def test_test_tool_tta_on_a_deploy_checkpoint(synthfer_root, tmp_path):
    # the tiny config tests at 64 px: it restates tta_pipeline, as a config
    # that changes test_pipeline must
    cfg = write_config(tmp_path / 'tiny.py', synthfer_root)
    tiny = Config.fromfile(cfg)
    tiny.tta_pipeline = [
        *tiny.test_dataloader.dataset.pipeline[:-1],
        dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                dict(type='RandomFlip', prob=0.0, direction='horizontal')
            ], [dict(type='PackInputs')]])
    ]
    tiny.dump(cfg)
    model = build_model()
    model.switch_to_deploy()
    ckpt = save_checkpoint(model, tmp_path / 'deploy.pth')
    proc = run_tool(
        'tools/test.py',
        cfg,
        ckpt,
        '--tta',
        '--work-dir',
        str(tmp_path / 'work'),
        '--out',
        str(tmp_path / 'metrics.json'),
        '--out-item',
        'metrics',
        '--cfg-options',
        'model.neck.deploy=True',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'AverageClsScoreTTA' in log and 'tta_pipeline does not' not in log
    assert 'fer/top1' in open(tmp_path / 'metrics.json').read()
