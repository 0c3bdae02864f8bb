"""Borrowed array views: arrays numba does not reference-count, for the engine's hot paths.

numba counts references to every array with an atomic increment and decrement: each
slice, each array taken out of a tuple and each array passed to a compiled function that
is not inlined. Scoring one case made about 1,700 such calls. A *borrowed* view has the
same data, shape and strides but no owner (a null meminfo), so numba's reference counting
skips it: borrowing the engine's arrays left about 90 counted calls per case and took
3-7% off its time. Counting is worse across threads: two threads slicing the same batch
arrays update one shared count, so both cores contend for its cache line; borrowing the
batch's arrays took two threads from 1.5x to 2x one thread's speed.

The price is that a borrowed view does not keep its array alive: whoever borrows must
hold the owning array (or tuple of arrays) until the last use of the view, either as an
argument of the compiled function (the caller holds it) or by passing the owner to
:func:`keep_alive` after the last use.

numba's on-disk cache does not know that compiled code depends on this file: after
editing it, update ``KERNEL_SOURCES_SHA256`` in the modules that compile it in (see
``_jit.py``; their test says how).
"""

from __future__ import annotations

from numba.core import types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

__all__ = ["borrowed", "keep_alive"]


def _borrow_array(context, builder, typ, value):
    src = make_array(typ)(context, builder, value)
    out = make_array(typ)(context, builder)
    populate_array(
        out,
        data=src.data,
        shape=src.shape,
        strides=src.strides,
        itemsize=src.itemsize,
        meminfo=None,
        parent=None,
    )
    return out._getvalue()


@intrinsic
def borrowed(typingctx, x):
    """Return a borrowed view of array ``x``, or of each member of a tuple of arrays ``x``.

    The type is unchanged. The owner of ``x`` must stay alive while the views are used
    (see the module docstring).
    """
    if isinstance(x, types.Array):

        def codegen(context, builder, sig, args):
            return _borrow_array(context, builder, sig.args[0], args[0])

        return x(x), codegen
    if isinstance(x, types.BaseTuple) and all(isinstance(t, types.Array) for t in x):

        def codegen(context, builder, sig, args):
            out = args[0]
            for i, typ in enumerate(sig.args[0]):
                item = _borrow_array(context, builder, typ, builder.extract_value(args[0], i))
                out = builder.insert_value(out, item, i)
            return out

        return x(x), codegen
    return None


@intrinsic
def keep_alive(typingctx, x):
    """Use ``x`` here, so that numba does not free it earlier; do nothing else."""

    def codegen(context, builder, sig, args):
        return context.get_dummy_value()

    return types.none(x), codegen
