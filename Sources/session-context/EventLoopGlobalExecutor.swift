import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Makes NIO's event loops Swift Concurrency's global executor, with each job run as the
/// *generic* executor, which is what a global executor's jobs are.
///
/// A request's tasks then run on the event loop threads that do its I/O (no hop to and from the
/// default thread pool). NIO's own take-over
/// (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`)
/// does that too, but runs every job as the event loop's *serial* executor. Code that is not
/// isolated to an actor must run on the generic executor, so Swift hops back to it after each
/// `await` that may have changed executors; from a serial executor of its own, that hop cannot
/// continue in place: the runtime enqueues the task again, and the loop runs it again, as the
/// serial executor once more. Every such point of a request cost a trip through the loop's task
/// queue (README, performance: about 14 µs of a `/health/live` request, more for a GET).
/// Run as the generic executor, those hops continue in place.
enum EventLoopGlobalExecutor {
    /// The runtime's hook for `swift_task_enqueueGlobal`: the job, and the default implementation.
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Whether the event loops are the global executor; the first use installs them.
    ///
    /// Install before any task runs concurrently with the installing one (at the start of `main`):
    /// the hook is a plain global of the runtime, read without synchronisation.
    static let isInstalled: Bool = install()

    private static func install() -> Bool {
        guard MemoryLayout<UnownedSerialExecutor>.size == MemoryLayout<(Int, Int)>.size,
            let hook = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook")
        else { return false }
        let enqueue: EnqueueGlobalHook = { job, _ in
            // `any()` is the current thread's loop when it is one of the group's: a task stays on its loop.
            MultiThreadedEventLoopGroup.singleton.any().execute {
                job.runSynchronously(on: genericExecutor)
            }
        }
        hook.assumingMemoryBound(to: EnqueueGlobalHook?.self).pointee = enqueue
        return true
    }
}

/// The runtime's generic executor: a null identity and no implementation (`SerialExecutorRef::generic()`).
/// The standard library has no public spelling of it; its layout is two words (checked before use).
private let genericExecutor = unsafeBitCast((0, 0) as (Int, Int), to: UnownedSerialExecutor.self)
