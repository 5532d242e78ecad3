"""Great Plains: GP documents built from PowerBill statements and unit statistics, posted once through SmartConnect."""
