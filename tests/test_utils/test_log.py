"""quiet_mmengine_log: mmengine's "Loads checkpoint by ..." line and its
info lines are hidden while a model loads; everything else passes."""
import logging

from mmengine.logging import MMLogger

from dan_mm.utils.log import quiet_mmengine_log


def test_only_the_loading_line_and_info_are_dropped(capsys):
    logger = MMLogger.get_current_instance()
    level = logger.level
    with quiet_mmengine_log():
        print('Loads checkpoint by local backend from path: dan.pth')
        print('kept', end='')
        print(' on one line')
        # mmengine's info lines are off, its warnings on
        assert not logger.isEnabledFor(logging.INFO)
        assert logger.isEnabledFor(logging.WARNING)
    assert capsys.readouterr().out == 'kept on one line\n'
    assert logger.level == level
    print('Loads checkpoint by local backend from path: dan.pth')
    assert 'Loads checkpoint' in capsys.readouterr().out  # only inside
