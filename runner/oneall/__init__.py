"""oneall"""
