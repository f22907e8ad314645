# IPython profile of the documentation's notebook kernels: nothing written next to the sources.
c = get_config()  # noqa: F821
c.HistoryManager.enabled = False
