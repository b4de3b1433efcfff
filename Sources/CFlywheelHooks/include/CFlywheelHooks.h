#ifndef CFLYWHEEL_HOOKS_H
#define CFLYWHEEL_HOOKS_H

#include <stdbool.h>

/// Sets the Swift runtime's `swift_task_enqueueGlobal_hook` (the function Swift concurrency calls,
/// when set, to run a job on the global executor instead of its own pool) to `hook`, if no hook is
/// set yet; true when this call set it. An atomic compare-and-exchange, as SwiftNIO does.
///
/// The hook is found by the linker rather than by `dlsym`, so that it is also found when the
/// runtime is linked into the executable (`--static-swift-stdlib`), where it is not exported.
bool flywheel_install_enqueue_global_hook(void *_Nonnull hook);

#endif
