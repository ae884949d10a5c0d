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
