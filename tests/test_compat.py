"""dan_mm.compat: each upstream patch checks the versions it was written
for, can be applied again without change, and leaves upstream using dan_mm's
code."""
import types
import warnings

import mmpretrain.datasets
import mmpretrain.datasets.transforms
import mmpretrain.datasets.transforms.utils
import pytest
from mmengine.runner import CheckpointLoader

from dan_mm import compat
from dan_mm.datasets.transforms import get_transform_idx
from dan_mm.models import DAN
from dan_mm.utils.checkpoint import (load_from_local, load_from_mmcls,
                                     load_from_openmmlab,
                                     load_from_torchvision)
from dan_mm.zoo import load_from_url

LOOKUP_MODULES = (mmpretrain.datasets, mmpretrain.datasets.transforms,
                  mmpretrain.datasets.transforms.utils)


def upstream_state():
    """What the patches change, to compare before and after."""
    return (dict(CheckpointLoader._schemes),
            [m.get_transform_idx
             for m in LOOKUP_MODULES], DAN.__dict__['_metainfo'])


def fake_versions(monkeypatch, version='0.0.1'):
    monkeypatch.setattr(compat, 'installed_version', lambda name: version)


@pytest.mark.parametrize('patch', compat.PATCHES, ids=lambda p: p.__name__)
def test_each_patch_warns_on_another_version(patch, monkeypatch):
    fake_versions(monkeypatch)
    with pytest.warns(compat.UpstreamVersionWarning) as caught:
        patch()
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f'dan_mm.compat.{patch.__name__} was written '
                              'for ')
    written_for = ('mmengine==0.10.7, torch==2.14.1' if patch
                   is compat.route_checkpoint_loading else 'mmpretrain==1.2.0')
    assert f'for {written_for}, found ' in message
    assert '0.0.1' in message


@pytest.mark.parametrize('patch', compat.PATCHES, ids=lambda p: p.__name__)
def test_each_patch_is_silent_on_its_versions_and_idempotent(patch):
    before = upstream_state()
    with warnings.catch_warnings():
        warnings.simplefilter('error', compat.UpstreamVersionWarning)
        patch()
        patch()
    assert upstream_state() == before


def test_the_torch_local_version_counts_as_its_release(monkeypatch):
    monkeypatch.setattr(compat.importlib.metadata, 'version',
                        lambda name: '2.14.1+cpu')
    assert compat.installed_version('torch') == '2.14.1'


def test_apply_patches_routes_mmengine_to_the_safe_loaders():
    compat.apply_patches()  # already applied by import dan_mm: no change
    loader = CheckpointLoader._get_checkpoint_loader
    # downloads go through the zoo's cache
    assert loader('http://127.0.0.1/a.pth') is load_from_url
    assert loader('https://127.0.0.1/a.pth') is load_from_url
    assert loader('work_dirs/epoch_1.pth') is load_from_local
    assert loader('/abs/epoch_1.pth') is load_from_local
    assert loader('torchvision://resnet18') is load_from_torchvision
    assert loader('modelzoo://resnet18') is load_from_torchvision
    assert loader('open-mmlab://x') is load_from_openmmlab
    assert loader('openmmlab://x') is load_from_openmmlab
    assert loader('mmcls://x') is load_from_mmcls


def test_apply_patches_installs_the_lookup_and_the_task():
    assert all(m.get_transform_idx is get_transform_idx
               for m in LOOKUP_MODULES)
    assert DAN.__dict__['_metainfo'] is compat.DAN_METAINFO


def test_apply_patches_runs_once(monkeypatch):
    # a second call neither patches again nor warns, whatever the versions
    fake_versions(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter('error', compat.UpstreamVersionWarning)
        compat.apply_patches()


def test_a_missing_target_is_skipped_with_a_warning(monkeypatch):
    monkeypatch.delattr(CheckpointLoader, 'register_scheme')
    with pytest.warns(
            compat.UpstreamVersionWarning,
            match='route_checkpoint_loading: .* skipped'):
        compat.route_checkpoint_loading()
    for module in LOOKUP_MODULES:
        monkeypatch.delattr(module, 'get_transform_idx')
    with pytest.warns(
            compat.UpstreamVersionWarning,
            match='match_transform_subclasses: .* skipped'):
        compat.match_transform_subclasses()
    assert not any(hasattr(m, 'get_transform_idx') for m in LOOKUP_MODULES)


def test_a_dan_without_a_zoo_entry_reports_image_classification():
    model = types.SimpleNamespace()
    assert compat.DAN_METAINFO.fget(model) is compat.CLASSIFIER_METAINFO
    assert model.__dict__ == {}
    # get_model's None (a config file) keeps the classification task
    compat.DAN_METAINFO.fset(model, None)
    assert compat.DAN_METAINFO.fget(model).results[0].task == \
        'Image Classification'
    entry = compat.Model(name='dan_r18_rafdb')
    compat.DAN_METAINFO.fset(model, entry)
    assert compat.DAN_METAINFO.fget(model) is entry
