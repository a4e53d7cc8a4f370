"""Cases (案卷): intake, the closed-loop workflow, routing, deadlines in working time."""
