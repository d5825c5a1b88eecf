"""Campaign night simulation (issue 12): ``python -m bench.campaign_night``; see ``__main__``."""
