"""Figures of slopes' results with matplotlib, headless-safe.

Every figure function returns a :class:`matplotlib.figure.Figure` built without pyplot
(so no display, no global state, and the user's backend is left alone); :func:`save`
writes it as PNG or SVG by the file's suffix.
"""

# Each block below is owned by one module family; keep additions inside its block.

# --- calculus and landscape figures, animations ---
from .animation import animate_descent as animate_descent
from .calculus import secant_tangent as secant_tangent
from .calculus import taylor_approximations as taylor_approximations
from .landscape import contour_gradients as contour_gradients
from .landscape import critical_points_plot as critical_points_plot
from .landscape import landscape_grid as landscape_grid
from .landscape import surface as surface

# isort: split

# --- optimizer and training figures, save ---
from .io import save as save
from .io import to_png_bytes as to_png_bytes
from .optim import line_search_iterates as line_search_iterates
from .optim import trajectories as trajectories
from .training import batch_spread as batch_spread
from .training import gradient_norms_by_depth as gradient_norms_by_depth
from .training import loss_curves as loss_curves
from .training import lr_range_test as lr_range_test
from .training import schedules as schedules
