// target.hpp - per-region ISA enablement (GCC/Clang target pragmas), see STYLE.md §4.
#pragma once
#define MINTLANE_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define MINTLANE_TARGET_BEGIN(isa) MINTLANE_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define MINTLANE_TARGET_END MINTLANE_PRAGMA(clang attribute pop)
#else
#define MINTLANE_TARGET_BEGIN(isa) MINTLANE_PRAGMA(GCC push_options) MINTLANE_PRAGMA(GCC target(isa))
#define MINTLANE_TARGET_END MINTLANE_PRAGMA(GCC pop_options)
#endif
