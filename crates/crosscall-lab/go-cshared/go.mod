module crosscall.invalid/goadd1

// Same floor as the seed reference (../go): every toolchain the lab compares builds it.
go 1.19
