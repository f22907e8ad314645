# Startup of the documentation's notebook kernels.
import warnings

# tqdm.auto (imported by slopes for its progress bars) warns on import when ipywidgets is
# absent; the documentation shows no progress bars, so the warning would only be noise.
warnings.filterwarnings("ignore", message="IProgress not found")
