#ifndef CFLYWHEEL_HOOKS_H
#define CFLYWHEEL_HOOKS_H

/// The address of the Swift runtime's `swift_task_enqueueGlobal_hook`: the function Swift
/// concurrency calls, when set, to run a job on the global executor instead of its own pool.
///
/// Found by the linker rather than by `dlsym`, so that it is also found when the runtime is linked
/// into the executable (`--static-swift-stdlib`), where the symbol is not exported.
void *_Nullable *_Nonnull flywheel_swift_task_enqueue_global_hook(void);

#endif
