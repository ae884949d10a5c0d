"""mmpretrain's model APIs on dan_mm's models, by name and by config path."""
import os.path as osp

import cv2
import mmpretrain
import pytest
import torch
import yaml
from fer_fixtures import face
from fer_test_utils import REPO, build_model, save_checkpoint
from mmpretrain import (FeatureExtractor, ImageClassificationInferencer,
                        get_model, inference_model, list_models)

from dan_mm.datasets import RAFDB
from dan_mm.utils.model_index import find_model_index, register_model_index

NAME = 'dan_r18_synthfer'  # 80x80: the cheapest model to run
CONFIG = osp.join(REPO, 'configs', f'{NAME}.py')
CLASSES = list(RAFDB.METAINFO['classes'])


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_checkpoint(build_model(),
                           tmp_path_factory.mktemp('hub') / 'dan.pth')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp('faces')
    paths = []
    for label in (0, 3):  # Surprise, Happiness
        path = str(folder / f'{label}.png')
        cv2.imwrite(path, cv2.cvtColor(face(label, 7, 64), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def metafile_names():
    with open(osp.join(REPO, 'configs', 'dan', 'metafile.yml')) as f:
        return sorted(m['Name'] for m in yaml.safe_load(f)['Models'])


def test_list_models_knows_every_dan_mm_model():
    names = metafile_names()
    assert set(names) <= set(list_models())
    assert [n for n in names if n.startswith('dan')] == list_models('dan*')
    # Every one with a task mmpretrain maps to an inferencer.
    assert set(names) <= set(list_models(task='Image Classification'))
    assert set(names) <= set(ImageClassificationInferencer.list_models())
    # mmpretrain's own zoo is still there.
    assert 'resnet18_8xb32_in1k' in list_models('resnet18')


def test_model_index_resolves_to_this_checkout_and_registers_once():
    index, prefix = find_model_index()
    assert index == osp.join(REPO, 'model-index.yml') and prefix == REPO
    before = list_models()
    assert register_model_index()  # a second time: no error, no change
    assert list_models() == before
    entry = mmpretrain.apis.ModelHub.get(NAME)
    assert entry.config.filename == CONFIG


def test_by_name_and_by_config_give_the_same_predictions(checkpoint, images):
    by_name = get_model(NAME, pretrained=checkpoint)
    by_config = get_model(CONFIG, pretrained=checkpoint)
    assert type(by_name).__name__ == 'DAN'
    assert by_name._metainfo.name == NAME  # the zoo entry get_model stored
    # Built from a file, a DAN still tells inference_model its task.
    assert by_config._metainfo.results[0].task == 'Image Classification'
    results = [inference_model(m, images[0]) for m in (by_name, by_config)]
    for result in results:
        assert result['pred_class'] == CLASSES[result['pred_label']]
        assert result['pred_scores'].shape == (7, )
    assert results[0]['pred_label'] == results[1]['pred_label']
    assert results[0]['pred_score'] == pytest.approx(results[1]['pred_score'])
    # Same numbers as the model itself on the same pipeline.
    inferencer = ImageClassificationInferencer(by_config)
    batch = inferencer([images[0]], return_datasamples=True)
    assert torch.allclose(batch[0].pred_score,
                          torch.from_numpy(results[1]['pred_scores']))


def test_inferencer_by_config_path_returns_our_class_names(checkpoint, images):
    inferencer = ImageClassificationInferencer(CONFIG, pretrained=checkpoint)
    assert inferencer.classes == CLASSES  # from the checkpoint's meta
    results = inferencer(images, batch_size=2)
    assert [r['pred_class'] for r in results] == \
        [CLASSES[r['pred_label']] for r in results]


def test_get_model_without_checkpoint_takes_classes_from_the_dataset():
    model = get_model(NAME)
    assert list(model._dataset_meta['classes']) == CLASSES


def test_feature_extractor_by_name(checkpoint, images):
    extractor = FeatureExtractor(NAME, pretrained=checkpoint)
    pooled, heads = extractor(images[0])[0]  # the neck: (C,), (K, C)
    assert pooled.shape == (512, ) and heads.shape == (4, 512)
    (feature_map, ) = extractor(images[0], stage='backbone')[0]
    assert feature_map.shape == (512, 3, 3)  # 80x80 input
    assert torch.allclose(feature_map.mean(dim=(1, 2)), pooled, atol=1e-5)
