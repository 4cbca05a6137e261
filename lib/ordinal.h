// Ordinal numbers in English for what people read ("1st", "2nd", "3rd", "4th", "11th",
// "21st", ...): places in line, in the injector's warning, the scheduler's events, the gateway's
// messages and labctl. Pure function; thread-safe.
#ifndef LABKUBE_LIB_ORDINAL_H_
#define LABKUBE_LIB_ORDINAL_H_

#include <string>

namespace labkube {

std::string Ordinal(int n);

}  // namespace labkube

#endif  // LABKUBE_LIB_ORDINAL_H_
