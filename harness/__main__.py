from golf_check.harness.cli import main

main()
