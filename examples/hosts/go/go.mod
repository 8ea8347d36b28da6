module example.invalid/hostkv

go 1.22
