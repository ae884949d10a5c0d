import json
import os.path as osp

import pytest
from config_utils import load_config
from fer_test_utils import REPO

from dan_mm.engine import multi_seed
from dan_mm.utils.errors import DataNotFoundError, PretrainedNotFoundError


def test_summarize_mean_and_sample_std():
    summary = multi_seed.summarize({
        0: {
            'a': 1.0,
            'b': 5.0
        },
        1: {
            'a': 3.0
        },
        2: {
            'a': 5.0
        }
    })
    assert list(summary) == ['a']  # only metrics every seed reports
    assert summary['a']['mean'] == pytest.approx(3.0)
    assert summary['a']['std'] == pytest.approx(2.0)  # ddof=1
    assert multi_seed.summarize({7: {'a': 2.0}})['a']['std'] == 0.0
    md = multi_seed.to_markdown('c.py', [0, 1, 2], summary)
    assert '| a | 3.00 ± 2.00 | 1.00 | 3.00 | 5.00 |' in md


@pytest.mark.slow
def test_two_seeds_on_tiny_data(synthfer_root, tmp_path, monkeypatch):
    options = {
        f'{loader}.{key}': value
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key, value in (('dataset.data_root', str(synthfer_root)),
                           ('dataset.indices', 2), ('batch_size',
                                                    2), ('num_workers', 0))
    }
    options.update({
        'train_cfg.max_epochs': 1,
        'default_hooks.checkpoint.interval': -1,
        'default_hooks.checkpoint.save_best': None
    })
    # skip yapf-formatting the config dumps (~1 s each, not under test)
    monkeypatch.setattr(multi_seed, 'load_config', load_config)
    result = multi_seed.run_multi_seed(
        osp.join(REPO, 'configs', 'dan_r18_synthfer.py'), [0, 1],
        str(tmp_path), options)
    assert result['seeds'] == [0, 1]
    for seed in (0, 1):
        assert osp.isdir(tmp_path / f'seed_{seed}')
    with open(tmp_path / 'summary.json') as f:
        saved = json.load(f)
    top1 = saved['summary']['fer/top1']
    values = [saved['per_seed'][s]['fer/top1'] for s in ('0', '1')]
    assert top1['values'] == values
    assert top1['mean'] == pytest.approx(sum(values) / 2)
    assert top1['std'] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    assert 'fer/balanced_accuracy' in saved['summary']
    md = (tmp_path / 'summary.md').read_text()
    assert '| fer/top1 |' in md and '±' in md


def test_each_seed_gets_the_checks_of_tools_train(synthfer_root, tmp_path):
    """build_runner's steps, before anything is built: the data roots of
    every loader a seed uses, and the pretrained start."""
    config = osp.join(REPO, 'configs', 'dan_r18_synthfer.py')
    roots = {
        f'{loader}.dataset.data_root': str(synthfer_root)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    }
    missing = str(tmp_path / 'missing')
    for loader in ('train_dataloader', 'test_dataloader'):
        options = dict(roots, **{f'{loader}.dataset.data_root': missing})
        with pytest.raises(
                DataNotFoundError,
                match=f'{loader}.dataset.data_root: {missing}'):
            multi_seed.run_multi_seed(config, [0], str(tmp_path), options)
    options = dict(
        roots, **{
            'model.backbone.init_cfg':
            [dict(type='Pretrained', checkpoint=missing + '.pth')]
        })
    with pytest.raises(PretrainedNotFoundError, match='model.backbone'):
        multi_seed.run_multi_seed(config, [0], str(tmp_path), options)
    assert not (tmp_path / 'seed_0').exists()  # no runner was built
