"""Machine checks of dsql's guarantees (issue 8): the Promela model of the commit protocol
(`dsql.verify.promela`), run with spin."""
