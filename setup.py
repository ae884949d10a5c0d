"""dan_mm: DAN facial expression recognition as an MMPretrain plugin."""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def version() -> str:
    scope = {}
    with open(osp.join(HERE, 'dan_mm', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def requirements(name: str) -> list:
    path = osp.join(HERE, 'requirements', name)
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-r')]


def add_mim_extension() -> None:
    """Copy configs/ and tools/ into dan_mm/.mim so that mim finds them.

    The same as mmpretrain's setup.py: in an editable install `.mim` holds
    symlinks, in a wheel real copies. Development harnesses (the GPU check)
    live under .ci/, so no user installs them.
    """
    mim_dir = osp.join(HERE, 'dan_mm', '.mim')
    mode = 'symlink' if 'develop' in sys.argv or any(
        'editable' in a for a in sys.argv) else 'copy'
    for name in ('configs', 'tools', 'model-index.yml'):
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        os.makedirs(mim_dir, exist_ok=True)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='dan_mm',
        version=version(),
        description='DAN (Distract Your Attention) facial expression '
        'recognition as an MMPretrain plugin',
        long_description=readme(),
        long_description_content_type='text/markdown',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={'dan_mm': ['.mim/**/*', '.mim/*', 'demo/static/*']},
        python_requires='>=3.8',
        install_requires=requirements('runtime.txt'),
        extras_require={
            'mim': requirements('mim.txt'),
            'deploy': requirements('deploy.txt'),
            'demo': requirements('demo.txt'),
            'vis': requirements('vis.txt'),
            'tensorboard': requirements('tensorboard.txt'),
            'tests': requirements('tests.txt'),
        },
        license='Apache License 2.0',
        zip_safe=False)
