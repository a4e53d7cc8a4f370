from citylead.cli import main

main()
