#include "CFlywheelHooks.h"

// Defined by the Swift concurrency runtime (libswift_Concurrency); the type is the runtime's
// function pointer, which Swift code reinterprets (see EventLoopExecutor.swift).
extern void *swift_task_enqueueGlobal_hook;

void *_Nullable *_Nonnull flywheel_swift_task_enqueue_global_hook(void) {
    return &swift_task_enqueueGlobal_hook;
}
