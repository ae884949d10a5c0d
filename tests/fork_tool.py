"""Run one tool's ``main()`` many times, each in a forked child process.

    python tests/fork_tool.py tools/train.py cases.json results.json

``cases.json`` is a list of ``{"argv": [...], "env": {...}}``. The tool
module and everything it imports are loaded once; each case then runs in a
child forked from this process, with its own stdout/stderr files, exactly as
``python tools/<tool> ARGV`` would end: ``SystemExit`` gives the exit
status, an uncaught exception prints its traceback and gives 1. Imports
are what a failing tool run spends most of its time on, so a table of bad
inputs costs one start-up instead of one per case. ``results.json`` gets
``[{"returncode", "stdout", "stderr"}]`` in the order of the cases.
"""
import importlib.util
import json
import os
import os.path as osp
import sys
import tempfile
import traceback


def load_tool(path):
    spec = importlib.util.spec_from_file_location('tool_under_test', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # __name__ != '__main__': main() waits
    return module


def run_case(tool, path, case, out_dir, index):
    stdout = osp.join(out_dir, f'{index}.out')
    stderr = osp.join(out_dir, f'{index}.err')
    pid = os.fork()
    if pid == 0:  # child: become `python <path> <argv>`
        code = 1
        try:
            for fd, name in ((1, stdout), (2, stderr)):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(target, fd)
                os.close(target)
            os.environ.update(case.get('env', {}))
            sys.argv = [path] + case['argv']
            try:
                tool.main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(
                    exit_.code, int) else (0 if exit_.code is None else 1)
                if not isinstance(exit_.code, (int, type(None))):
                    print(exit_.code, file=sys.stderr)
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


def main():
    path, cases_file, results_file = sys.argv[1:4]
    with open(cases_file) as f:
        cases = json.load(f)
    tool = load_tool(path)
    with tempfile.TemporaryDirectory() as out_dir:
        results = [
            run_case(tool, path, case, out_dir, i)
            for i, case in enumerate(cases)
        ]
    with open(results_file, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
