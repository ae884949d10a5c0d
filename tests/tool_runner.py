"""Run a tool as its command line would, and see how it ended.

:func:`run_tool` is the one way the tests run a tool: in this process (the
fast way), as a new process (signals, torchrun, a fresh interpreter), or
case after case in children forked from one process that imported the tool
once (a table of bad inputs for one start-up). Run as a script, this module
is that forking parent::

    python tests/tool_runner.py tools/train.py cases.json results.json

``cases.json`` is a list of ``{"argv": [...], "env": {...}}``;
``results.json`` gets one ``{"returncode", "stdout", "stderr"}`` per case.
"""
import contextlib
import importlib.util
import io
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import traceback
from typing import Callable, List, NamedTuple, Optional, Sequence, Union
from unittest import mock

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


class ToolResult(NamedTuple):
    """How a tool run ended: ``code, out, err = run_tool(...)`` or
    ``result.returncode`` as with :mod:`subprocess`."""
    returncode: int
    stdout: str
    stderr: str


def run_tool(tool: Union[str, Callable],
             *args,
             in_process: bool = True,
             cases: Optional[Sequence[Union[list, dict]]] = None,
             env: Optional[dict] = None,
             cwd=REPO,
             timeout: float = 600) -> Union[ToolResult, List[ToolResult]]:
    """Run ``tool`` with ``args`` as its command line.

    In this process, the tool's ``main()`` runs with ``sys.argv`` set, its
    stdout/stderr captured and ``SystemExit`` turned into the exit status
    (``sys.exit('message')``: the message on stderr and 1, as Python does);
    an uncaught exception propagates to the test. The environment (``--debug``
    sets a variable) and the working directory are restored afterwards.

    As a process, ``python <tool> <args>`` runs in ``cwd`` with this tree and
    ``tests/`` (for ``custom_imports=['probe_hook']``) first on its path and
    one thread per process (several may share the cores).

    Args:
        tool (str | Callable): A script of the repository
            (``'tools/train.py'``); ``'-m'`` with the module first in
            ``args`` (``'-m', 'torch.distributed.run', ...``, as a process
            only); or a package function, called with ``args`` under
            :func:`~dan_mm.utils.cli.exit_on_user_error` as a tool's
            ``main()`` calls it (in this process only).
        *args: The command line (each turned into ``str``), or the
            function's arguments.
        in_process (bool): Run in this process rather than as a new one.
            Defaults to True.
        cases (list[list | dict], optional): Instead of ``args``: run the
            script once per case (an argument list, or a dict with ``argv``
            and ``env``), each in a child forked from one process that
            imported the tool once. Defaults to None.
        env (dict, optional): Environment variables to set.
        cwd (str | Path): The working directory. Defaults to the repository.
        timeout (float): Seconds a process may take (not in this process).
            Defaults to 600.

    Returns:
        ToolResult | list[ToolResult]: One per case when ``cases`` is given.
    """
    if cases is not None:
        assert not args and isinstance(tool, str), 'cases replace args'
        return _run_forked(tool, cases, env, cwd, timeout)
    if in_process:
        return _run_here(tool, args, env, cwd)
    assert isinstance(tool, str), 'a function runs in this process only'
    return _run_process([tool, *args], env, cwd, timeout)


def load_tool(script: str):
    """Import a tools/ script (``'tools/infer.py'``) as a module; its
    ``main()`` does not run (``__name__`` is not ``'__main__'``)."""
    path = osp.join(REPO, script)
    name = 'tool_' + osp.splitext(script)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _exit_status(exit_: SystemExit) -> int:
    """The status ``python`` ends with on ``exit_``; a message goes to
    stderr."""
    if exit_.code is None or isinstance(exit_.code, int):
        return exit_.code or 0
    print(exit_.code, file=sys.stderr)
    return 1


def _call_main(tool, args) -> int:
    """Run ``tool``'s ``main()`` (a module) or ``tool(*args)`` (a package
    function) as a tool would; the exit status."""
    try:
        if callable(tool):
            from dan_mm.utils.cli import exit_on_user_error
            exit_on_user_error(tool)(*args)
        else:
            with mock.patch.object(sys, 'argv',
                                   [tool.__file__, *map(str, args)]):
                tool.main()
    except SystemExit as exit_:
        return _exit_status(exit_)
    return 0


def _run_here(tool, args, env, cwd) -> ToolResult:
    if not callable(tool):
        assert tool != '-m', 'a module (-m) runs as a process'
        tool = load_tool(tool)
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), contextlib.chdir(cwd), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _call_main(tool, args)
    return ToolResult(code, out.getvalue(), err.getvalue())


def _run_process(argv, env, cwd, timeout) -> ToolResult:
    full_env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [REPO,
             osp.join(REPO, 'tests'),
             os.environ.get('PYTHONPATH', '')]),
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1')
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, *map(str, argv)],
                          cwd=cwd,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)
    return ToolResult(proc.returncode, proc.stdout, proc.stderr)


def _run_forked(script, cases, env, cwd, timeout) -> List[ToolResult]:
    cases = [c if isinstance(c, dict) else dict(argv=c) for c in cases]
    cases = [dict(c, argv=[str(a) for a in c['argv']]) for c in cases]
    with tempfile.TemporaryDirectory() as tmp:
        cases_file = osp.join(tmp, 'cases.json')
        results_file = osp.join(tmp, 'results.json')
        with open(cases_file, 'w') as f:
            json.dump(cases, f)
        parent = _run_process(
            [osp.abspath(__file__), script, cases_file, results_file], env,
            cwd, timeout)
        assert parent.returncode == 0, parent.stderr[-3000:]
        with open(results_file) as f:
            return [ToolResult(**r) for r in json.load(f)]


def _run_forked_case(tool, case, out_dir, index) -> dict:
    """Run ``case`` in a child forked from this process, whose stdout and
    stderr (file descriptors 1 and 2, workers' too) go to files; an
    uncaught exception prints its traceback and gives 1, as ``python``."""
    stdout = osp.join(out_dir, f'{index}.out')
    stderr = osp.join(out_dir, f'{index}.err')
    pid = os.fork()
    if pid == 0:  # child: become `python <tool> <argv>`
        code = 1
        try:
            for fd, name in ((1, stdout), (2, stderr)):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(target, fd)
                os.close(target)
            os.environ.update(case.get('env', {}))
            try:
                code = _call_main(tool, case['argv'])
            except BaseException:
                traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    with open(stdout) as out, open(stderr) as err:
        return dict(
            returncode=os.waitstatus_to_exitcode(status),
            stdout=out.read(),
            stderr=err.read())


def _fork_main():
    script, cases_file, results_file = sys.argv[1:4]
    with open(cases_file) as f:
        cases = json.load(f)
    tool = load_tool(script)  # the imports every case shares
    with tempfile.TemporaryDirectory() as out_dir:
        results = [
            _run_forked_case(tool, case, out_dir, i)
            for i, case in enumerate(cases)
        ]
    with open(results_file, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    _fork_main()
