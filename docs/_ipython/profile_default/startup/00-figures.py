# Startup of the documentation's notebook kernels.
# slopes.viz builds figures without pyplot, so IPython has no formatter for them by default:
# show a Figure that ends a cell as PNG, as a notebook user with rich display sees it.
import warnings

from matplotlib.figure import Figure

# tqdm.auto warns when ipywidgets is absent; the docs show no progress bars.
warnings.filterwarnings("ignore", message="IProgress not found")


def _figure_png(fig):
    from slopes.viz import to_png_bytes

    return to_png_bytes(fig)


get_ipython().display_formatter.formatters["image/png"].for_type(Figure, _figure_png)  # noqa: F821
