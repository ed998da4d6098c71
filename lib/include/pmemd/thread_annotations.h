// Clang thread-safety annotations (-Wthread-safety), after leveldb's
// port/thread_annotations.h and the macros in Clang's documentation
// ("Thread Safety Analysis"). Under GCC they are empty.
//
// Members a mutex protects say so with GUARDED_BY(mu_) (PT_GUARDED_BY for
// what a pointer points at); functions that must be called with it held say
// REQUIRES(mu_) (REQUIRES_SHARED for a reader's hold), those that take it
// themselves EXCLUDES(mu_). The mutex types are in pmemd/mutex.h:
// libstdc++'s std::mutex carries no capability attribute, so the analysis
// cannot see through it. scripts/thread-safety.sh compiles lib/ with
// clang-14 -Wthread-safety -Werror=thread-safety; scripts/test.sh runs it.
//
// NO_THREAD_SAFETY_ANALYSIS is for what the analysis cannot follow (state
// touched before an object is shared, a lock held by a caller through a
// reference it cannot name); each use says why.
#pragma once

#if defined(__clang__)
#define PMEMD_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PMEMD_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) PMEMD_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY PMEMD_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) PMEMD_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) PMEMD_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) PMEMD_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) PMEMD_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) PMEMD_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PMEMD_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) PMEMD_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PMEMD_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) PMEMD_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PMEMD_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) PMEMD_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PMEMD_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) PMEMD_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) PMEMD_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) PMEMD_THREAD_ANNOTATION(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) PMEMD_THREAD_ANNOTATION(assert_shared_capability(x))
#define RETURN_CAPABILITY(x) PMEMD_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS PMEMD_THREAD_ANNOTATION(no_thread_safety_analysis)
