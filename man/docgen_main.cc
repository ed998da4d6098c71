// pmemd-docgen OUTDIR: writes pmemctl.8, pmemd.8, pmemd.json.5 and
// pmemctl.bash into OUTDIR (docgen.h).
#include <cstdio>
#include <string>

#include "docgen.h"
#include "pmemd/fs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pmemd-docgen OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  struct Out {
    const char* name;
    std::string text;
  };
  for (const Out& o : {Out{"pmemctl.8", pmemd::docgen::PmemctlManPage()}, Out{"pmemd.8", pmemd::docgen::PmemdManPage()},
                       Out{"pmemd.json.5", pmemd::docgen::ConfigManPage()},
                       Out{"pmemctl.bash", pmemd::docgen::PmemctlCompletion()}}) {
    pmemd::Status s = pmemd::WriteFileAtomic(dir + "/" + o.name, o.text);
    if (!s.ok()) {
      std::fprintf(stderr, "pmemd-docgen: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
