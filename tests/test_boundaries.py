"""Layering rules, checked on the source: the utility layer stays at the
bottom, dan_mm has no import cycle, and tools use public APIs only.

Imports are read from the AST at every level: absolute, relative (``from .x
import y`` and ``from .. import x``), and inside functions (a lazy import
still runs, and can still close a cycle)."""
import ast
import glob
import os.path as osp
import re
import sys

import pytest
from fer_test_utils import REPO

TOOLS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True))
UTILS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'dan_mm', 'utils', '*.py')))
PACKAGE = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'dan_mm', '**', '*.py'), recursive=True))


def parse(path):
    with open(osp.join(REPO, path)) as f:
        return ast.parse(f.read(), path)


def module_name(path):
    """``dan_mm/utils/cli.py`` -> ``dan_mm.utils.cli``; a package's
    ``__init__.py`` is the package."""
    parts = osp.splitext(path)[0].split(osp.sep)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


MODULES = {module_name(p): p for p in PACKAGE}


def is_package(module):
    return MODULES.get(module, '').endswith('__init__.py')


def imported_modules(path):
    """``(line, module)`` of every dan_mm module ``path`` imports.

    ``from A import b`` imports ``A``, and ``A.b`` too when that is a
    module; relative imports are resolved against ``path``'s package.
    """
    here = module_name(path)
    package = here if is_package(here) else here.rpartition('.')[0]
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - (node.level - 1)]
                module = '.'.join(base +
                                  ([node.module] if node.module else []))
            else:
                module = node.module or ''
            yield node.lineno, module
            for alias in node.names:
                if f'{module}.{alias.name}' in MODULES:
                    yield node.lineno, f'{module}.{alias.name}'


def import_graph():
    """``{module: {imported module: line}}`` over dan_mm.

    Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first, so
    an import also depends on the packages above its target, except those
    the importer is itself inside (already being imported).
    """
    graph = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, {})
        own = {module.rsplit('.', i)[0] for i in range(module.count('.') + 1)}
        for line, target in imported_modules(path):
            parts = target.split('.')
            for i in range(1, len(parts) + 1):
                name = '.'.join(parts[:i])
                if name in MODULES and name not in own and name != module:
                    edges.setdefault(name, line)
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 'done'
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_import_graph_sees_every_kind_of_import():
    graph = import_graph()
    # relative level 1
    assert 'dan_mm.utils.errors' in graph['dan_mm.engine.torchrun']
    # relative level 2 (demo -> inference) and a package re-export
    assert 'dan_mm.inference' in graph['dan_mm.demo.service']
    assert 'dan_mm.engine.runner' in graph['dan_mm.engine']
    # ``from . import datasets`` names a subpackage
    assert 'dan_mm.datasets' in graph['dan_mm']
    assert find_cycle({'a': {'b': 1}, 'b': {'c': 1}, 'c': {'a': 1}}) == \
        ['a', 'b', 'c', 'a']


def test_dan_mm_has_no_import_cycle():
    graph = import_graph()
    cycle = find_cycle(graph)
    if cycle:
        steps = [
            f'{a} (line {graph[a][b]} of {MODULES[a]})'
            for a, b in zip(cycle, cycle[1:])
        ]
        pytest.fail('import cycle: ' + ' -> '.join(steps + [cycle[-1]]))


@pytest.mark.parametrize('path', UTILS)
def test_utils_import_nothing_from_the_rest_of_dan_mm(path):
    """dan_mm.utils is imported by every other package: importing one of
    them back would make a cycle (and hide a misplaced helper)."""
    for line, module in imported_modules(path):
        assert not module.startswith('dan_mm') or module == 'dan_mm.utils' \
            or module.startswith('dan_mm.utils.'), \
            f'{path}:{line}: imports {module}'


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


def root_name(node):
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


@pytest.mark.parametrize(
    'path',
    sorted(
        osp.relpath(p, REPO) for p in glob.glob(
            osp.join(REPO, 'dan_mm', 'inference', '**', '*.py'),
            recursive=True)))
def test_apis_do_not_reach_into_the_model(path):
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Attribute):
            assert node.attr not in ('backbone', 'neck', 'head'), \
                f'{path}:{node.lineno}: {ast.unparse(node)}'


# Patches of upstream code live in dan_mm/compat.py only.
COMPAT = osp.join('dan_mm', 'compat.py')


def is_upstream(module):
    """A third-party package's module: neither dan_mm nor the standard
    library (mmengine, mmpretrain, mmcv, torch, timm, cv2, numpy ...)."""
    top = module.split('.')[0]
    return top != 'dan_mm' and top not in sys.stdlib_module_names


def target_root(node):
    """``a`` for ``a.b.c`` or ``a.b[0]`` (not through calls: ``f().x`` is
    an attribute of a new object, not of ``f``'s module)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def refers_to(node, names):
    """Whether ``node`` is a name in ``names``, an attribute of one, or a
    tuple/list/set holding one."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(refers_to(elt, names) for elt in node.elts)
    return target_root(node) in names


def upstream_names(tree):
    """Names that stand for an upstream module, class or function: bound
    by an import, or by assigning or looping over such names."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_upstream(alias.name):
                    names.add(alias.asname or alias.name.split('.')[0])
        elif isinstance(node, ast.ImportFrom) and not node.level:
            if is_upstream(node.module or ''):
                names.update(a.asname or a.name for a in node.names)
    bindings = [(n.targets, n.value) for n in ast.walk(tree)
                if isinstance(n, ast.Assign)]
    bindings += [([n.target], n.iter) for n in ast.walk(tree)
                 if isinstance(n, (ast.For, ast.comprehension))]
    while True:  # until no new name: aliases of aliases
        new = {
            target.id
            for targets, value in bindings if refers_to(value, names)
            for target in targets if isinstance(target, ast.Name)
        } - names
        if not new:
            return names
        names |= new


def upstream_patches(source, path='<source>'):
    """``'path:line: code'`` of each place ``source`` changes upstream
    code: an assignment to (or ``del`` of) an attribute of an upstream
    name, ``setattr``/``delattr`` on one, or a ``register_scheme`` call."""
    tree = ast.parse(source, path)
    names = upstream_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.Call):
            func = node.func
            patch = isinstance(func, ast.Attribute) and \
                func.attr == 'register_scheme'
            patch |= isinstance(func, ast.Name) and \
                func.id in ('setattr', 'delattr') and bool(node.args) and \
                refers_to(node.args[0], names)
            if patch:
                found.append(f'{path}:{node.lineno}: {ast.unparse(node)}')
            continue
        else:
            continue
        for target in targets:
            elts = target.elts if isinstance(target, ast.Tuple) else [target]
            for elt in elts:
                if isinstance(elt, (ast.Attribute, ast.Subscript)) and \
                        target_root(elt) in names:
                    found.append(f'{path}:{node.lineno}: {ast.unparse(elt)}')
    return sorted(found, key=lambda line: int(line.split(':')[1]))


PLANTED = '''
import mmpretrain.datasets as datasets
import torch
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint


def install(lookup):
    import mmpretrain.datasets.transforms.utils as utils
    for module in (datasets, utils):
        module.get_transform_idx = lookup
    mmengine_checkpoint.load_from_http = lookup
    CheckpointLoader.register_scheme(prefixes='', loader=lookup)
    CheckpointLoader._schemes['x://'] = lookup
    setattr(torch.hub, 'load', lookup)
    hub = torch.hub
    hub.download_url_to_file = lookup
'''

CLEAN = '''
import logging
import os

import torch
from mmengine.config import Config


class Thing:
    def __init__(self):
        self.model = torch.nn.Linear(2, 2)
        self.model.weight = None


def build(args):
    cfg = Config(dict(a=1))
    cfg.work_dir = args.work_dir
    cfg.model.neck = None
    layer = torch.nn.Linear(2, 2)
    layer.bias = None
    logger = logging.getLogger('torch.distributed.elastic')
    logger.propagate = False
    os.environ['X'] = '1'
    setattr(args, 'dest', True)
    return cfg
'''


def test_the_patch_scanner_finds_planted_patches():
    found = upstream_patches(PLANTED)
    assert [line.split(': ', 1)[1] for line in found] == [
        'module.get_transform_idx',
        'mmengine_checkpoint.load_from_http',
        "CheckpointLoader.register_scheme(prefixes='', loader=lookup)",
        "CheckpointLoader._schemes['x://']",
        "setattr(torch.hub, 'load', lookup)",
        'hub.download_url_to_file',
    ]


def test_the_patch_scanner_leaves_ordinary_code_alone():
    assert upstream_patches(CLEAN) == []


def test_the_patch_scanner_sees_the_patches_in_compat():
    with open(osp.join(REPO, COMPAT)) as f:
        found = '\n'.join(upstream_patches(f.read(), COMPAT))
    assert 'CheckpointLoader.register_scheme(' in found
    assert 'module.get_transform_idx' in found


@pytest.mark.parametrize('path', [p for p in PACKAGE if p != COMPAT])
def test_upstream_is_patched_only_in_compat(path):
    """Every change to mmengine, mmpretrain, torch ... is one named,
    version-checked function of dan_mm/compat.py."""
    with open(osp.join(REPO, path)) as f:
        found = upstream_patches(f.read(), path)
    assert not found, 'patch upstream in dan_mm/compat.py only: ' + \
        '; '.join(found)


@pytest.mark.parametrize(
    'module', sorted(m for m in MODULES if m.startswith('dan_mm.inference')))
def test_photo_inference_imports_nothing_from_video(module):
    """The photo inferencer is below the video loop: the video package uses
    it, never the other way round."""
    for line, target in imported_modules(MODULES[module]):
        assert not target.startswith('dan_mm.video'), \
            f'{MODULES[module]}:{line}: imports {target}'
    deps = import_graph()[module]
    assert not [m for m in deps if m.startswith('dan_mm.video')], deps


def modules_calling(name):
    """The dan_mm modules that call a function or method ``name``."""
    found = set()
    for path in PACKAGE:
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Call):
                func = node.func
                called = getattr(func, 'id', None) or getattr(
                    func, 'attr', None)
                if called == name:
                    found.add(path)
    return found


def test_one_runtime_builds_models_and_classifier_sessions():
    """Loading a model and opening the classifier's ONNX Runtime session
    each live in one place (the face detector keeps its own session)."""
    runtime = osp.join('dan_mm', 'runtime')
    assert modules_calling('get_model') == {osp.join(runtime, 'model.py')}
    assert modules_calling('InferenceSession') == {
        osp.join(runtime, 'session.py'),
        osp.join('dan_mm', 'inference', 'face_detectors', 'retinaface.py')
    }


def test_the_package_prints_only_through_the_cli_helper():
    assert modules_calling('print') == {osp.join('dan_mm', 'utils', 'cli.py')}


def test_the_runtime_imports_no_caller():
    """The runtime is below its callers: it never imports them (only the
    engine's knowledge of a config's pretrained start)."""
    callers = ('inference', 'video', 'demo', 'analysis', 'deployment', 'apis',
               'engine')
    for path in PACKAGE:
        if not path.startswith(osp.join('dan_mm', 'runtime', '')):
            continue
        for line, module in imported_modules(path):
            if module == 'dan_mm.engine.pretrained':
                continue
            assert not any(
                module.startswith(f'dan_mm.{room}') for room in callers), \
                f'{path}:{line}: imports {module}'


#: Flags of other programs in the commands a message gives (``pip install
#: --no-deps ...``, ``curl --data-binary``): not the tools' flags.
OTHER_PROGRAMS_FLAGS = {'--no-deps', '--force-reinstall', '--data-binary'}


def flags_in_messages(path):
    """The ``--flag`` names in the string literals of ``path``, docstrings
    and other programs' flags aside."""
    tree = parse(path)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(
                    first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(
                node.value, str) and id(node) not in docstrings:
            found.update(re.findall(r'(?<![\w-])--[a-z][\w-]*', node.value))
    return found - OTHER_PROGRAMS_FLAGS


def test_the_package_names_parameters_not_flags():
    """Package errors name the API's parameter (``device='cpu'``); the CLI
    helper's table (``dan_mm.utils.cli.API_FLAGS``) spells them as flags.
    Only a few modules still speak of the tools' flags."""
    cli = osp.join('dan_mm', 'utils', 'cli.py')
    assert {'--device', '--overwrite'} <= flags_in_messages(cli)
    speaking = {
        path: sorted(found)
        for path in PACKAGE if path != cli
        for found in [flags_in_messages(path)] if found
    }
    assert len(speaking) <= 5, speaking
