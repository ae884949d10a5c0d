"""The files mim reads: model-index.yml, metafiles and unique config names."""
import glob
import os.path as osp

import yaml
from fer_test_utils import REPO


def test_model_index_lists_every_config():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    listed = []
    for metafile in index['Import']:
        with open(osp.join(REPO, metafile)) as f:
            meta = yaml.safe_load(f)
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections
            assert osp.isfile(osp.join(REPO, model['Config'])), model
            assert osp.splitext(osp.basename(model['Config']))[0] == \
                model['Name']
            listed.append(osp.basename(model['Config']))
    configs = sorted(
        osp.basename(p) for p in glob.glob(osp.join(REPO, 'configs', '*.py')))
    assert sorted(listed) == configs


def test_config_names_are_unique_for_mim():
    # `mim train dan_mm NAME.py` finds a config by its file name anywhere in
    # the package: two files with one name would make it refuse.
    names = [
        osp.basename(p) for p in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in p
    ]
    assert len(names) == len(set(names))


def test_setup_packs_configs_tools_and_model_index():
    with open(osp.join(REPO, 'setup.py')) as f:
        setup = f.read()
    assert "('configs', 'tools', 'model-index.yml')" in setup


def _architecture(model_cfg):
    """What a config builds, in the metafile's Architecture words."""
    backbone, neck, head = (model_cfg[k] for k in ('backbone', 'neck', 'head'))
    if backbone.type == 'TIMMBackbone':
        families = dict(
            convnext='ConvNeXt',
            efficientnet='EfficientNet',
            vit='Vision Transformer')
        words = [families[backbone.model_name.split('_')[0]]]
    else:
        words = dict(
            ResNet=['ResNet'],
            SwinTransformer=['Swin Transformer'])[backbone.type]
    heads = neck.get('num_heads', 0)
    words += dict(
        MultiHeadCrossAttentionNeck=[
            'Multi-head Cross Attention' if heads > 1 else 'Cross Attention'
        ],
        GlobalAveragePooling=['Global Average Pooling'])[neck.type]
    if head.type == 'LinearClsHead':
        words.append('Linear Classifier')
    if head.get('affinity_loss'):
        words.append('Affinity Loss')
    if head.get('partition_loss') and heads > 1:  # 0 with one head
        words.append('Partition Loss')
    return sorted(words)


def test_metafile_describes_what_each_config_builds():
    """`mim search dan_mm` once called the linear baseline DAN with cross
    attention and an affinity loss (issue 17)."""
    from config_utils import load_config
    with open(osp.join(REPO, 'configs', 'dan', 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    collections = {c['Name']: c for c in meta['Collections']}
    for model in meta['Models']:
        collection = collections[model['In Collection']]
        words = model['Metadata'].get('Architecture',
                                      collection['Metadata']['Architecture'])
        cfg = load_config(osp.join(REPO, model['Config']))
        assert sorted(words) == _architecture(cfg.model), model['Name']
    linear = [
        m for m in meta['Models'] if m['Name'] == 'resnet18_linear_synthfer'
    ][0]
    assert collections[linear['In Collection']]['Name'] == 'Linear Baseline'
