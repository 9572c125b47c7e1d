// Mutant schemata: how a generated copy of a view selects one mutant at run time.
//
// schemata.py rewrites each output value of a view (an enum value it returns, a string it
// renders) as CORRAL_MUT(id, original, replacement); all mutants of all views are compiled
// once, and the environment variable CORRAL_MUTANT picks the one that is live in a process
// (none when unset). Read once, at first use, so that tables initialised before main() see it.
#pragma once

namespace corral::mutate {

// The live mutant's id from CORRAL_MUTANT, or 0 (none).
int active_mutant();

}  // namespace corral::mutate

#define CORRAL_MUT(id, original, replacement) \
  (::corral::mutate::active_mutant() == (id) ? (replacement) : (original))
