"""Layering rules, checked on the source: the utility layer stays at the
bottom, and tools use public APIs only."""
import ast
import glob
import os.path as osp

import pytest
from fer_test_utils import REPO

TOOLS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True))
UTILS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'dan_mm', 'utils', '*.py')))


def parse(path):
    with open(osp.join(REPO, path)) as f:
        return ast.parse(f.read(), path)


def root_name(node):
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


@pytest.mark.parametrize('path', UTILS)
def test_utils_import_nothing_from_the_rest_of_dan_mm(path):
    """dan_mm.utils is imported by every other package: importing one of
    them back would make a cycle (and hide a misplaced helper)."""
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                continue  # a sibling inside dan_mm.utils
            module = node.module or ''
            assert node.level == 0, f'{path}:{node.lineno}: relative import'
            assert not module.startswith('dan_mm') or module.startswith(
                'dan_mm.utils'), f'{path}:{node.lineno}: imports {module}'
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith('dan_mm') or \
                    alias.name.startswith('dan_mm.utils'), \
                    f'{path}:{node.lineno}: imports {alias.name}'


@pytest.mark.parametrize('path', TOOLS)
def test_tools_use_public_apis_only(path):
    """No private attribute of another module or object, and no reaching
    into the model's parts (DAN's public methods give what tools need);
    ``cfg.model.neck`` (the config) and a tool's own class's
    ``self._name`` are fine."""
    for node in ast.walk(parse(path)):
        if not isinstance(node, ast.Attribute):
            continue
        where = f'{path}:{node.lineno}: {ast.unparse(node)}'
        private = node.attr.startswith('_') and not node.attr.startswith('__')
        own = isinstance(node.value, ast.Name) and node.value.id == 'self'
        assert own or not private, where
        if node.attr in ('backbone', 'neck', 'head'):
            assert root_name(node) == 'cfg', where


@pytest.mark.parametrize(
    'path',
    sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'dan_mm', 'apis', '*.py'))))
def test_apis_do_not_reach_into_the_model(path):
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Attribute):
            assert node.attr not in ('backbone', 'neck', 'head'), \
                f'{path}:{node.lineno}: {ast.unparse(node)}'
